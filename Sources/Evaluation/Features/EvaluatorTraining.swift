import Foundation
import Imaging
import NN

/// Trains an evaluator network as a classifier: AdamW, cross-entropy, a linear warm-up then
/// cosine decay, random horizontal flips; reports test accuracy. With multi-layer features,
/// their standardization is measured on the training images last.
public struct EvaluatorTraining {
    public var epochs = 5
    public var batchSize = 128
    public var learningRate = 2e-3
    public var weightDecay = 1e-4
    public var width = 32
    public var seed: UInt64 = 0
    /// How the trained network is read (EvaluatorNetwork.Config's architectures).
    public var architecture = EvaluatorNetwork.Config.currentArchitecture

    public init() {}

    /// The optimizer steps training on `count` images takes.
    public func steps(forImages count: Int) -> Int { epochs * ((count + batchSize - 1) / batchSize) }

    /// Trains on `train` and returns the network; `progress` receives (step, total, loss).
    /// With `initial`, training starts from its weights (same classes, channels and width;
    /// with 0 epochs only the feature standardization is measured: a way to read an evaluator
    /// of architecture 1 as architecture 2 without changing what it learned).
    /// `stopRequested` is asked before each step; true stops training with `TrainingStopped`.
    public func train(_ train: ImageDataset, startingFrom initial: EvaluatorNetwork? = nil,
                      stopRequested: () -> Bool = { false },
                      progress: (Int, Int, Float) -> Void = { _, _, _ in }) throws -> EvaluatorNetwork {
        guard let labels = train.labels, train.classNames.count >= 2 else {
            throw FileFormatError(path: train.paths.first ?? "", reason: "an evaluator needs a class-folder dataset with at least 2 classes")
        }
        let network = EvaluatorNetwork(config: .init(architecture: architecture, inChannels: train.channels,
                                                     resolution: train.resolution, width: initial?.config.width ?? width,
                                                     classNames: train.classNames),
                                       seed: seed)
        if let initial {
            guard initial.config.classNames == train.classNames, initial.config.inChannels == train.channels else {
                throw FileFormatError(path: train.root.path, reason: "its classes \(train.classNames) and \(train.channels) channels differ from the starting evaluator's \(initial.config.classNames) and \(initial.config.inChannels)")
            }
            try network.load(stateDict: initial.stateDict())
        }
        let parameters = network.parameters
        let optimizer = AdamW(parameters: parameters, learningRate: learningRate, beta1: 0.9, beta2: 0.999,
                              eps: 1e-8, weightDecay: weightDecay)
        let sampler = BatchSampler(count: train.count, batchSize: batchSize, seed: seed, randomFlip: true)
        let total = steps(forImages: train.count)
        let warmup = min(200, total / 10)
        for step in 0..<total {
            if stopRequested() { throw TrainingStopped() }
            let (indices, flips) = sampler.batch(step)
            let tape = Tape(watching: parameters)
            let loss = crossEntropyLoss(network.logits(Variable(train.batch(indices, flips: flips))),
                                        labels: indices.map { labels[$0] })
            tape.backward(from: loss)
            let progressFraction = Double(step - warmup) / Double(max(1, total - warmup))
            optimizer.learningRate = step < warmup
                ? learningRate * Double(step + 1) / Double(warmup)
                : learningRate * 0.5 * (1 + cos(Double.pi * progressFraction))
            optimizer.update()
            progress(step + 1, total, loss.value.item)
        }
        if network.config.multiLayerFeatures { network.standardize(on: train) }
        return network
    }

    /// The fraction of `test` images the network classifies correctly (class names must match).
    public static func accuracy(of network: EvaluatorNetwork, on test: ImageDataset, batchSize: Int = 256) throws -> Double {
        accuracy(try confusionMatrix(of: network, on: test, batchSize: batchSize))
    }

    /// The share of a confusion matrix's images on its diagonal.
    public static func accuracy(_ confusion: [[Int]]) -> Double {
        Double(confusion.indices.map { confusion[$0][$0] }.reduce(0, +)) / Double(max(1, confusion.joined().reduce(0, +)))
    }

    /// Counts of (true class, predicted class) over `test` (class names must match).
    public static func confusionMatrix(of network: EvaluatorNetwork, on test: ImageDataset, batchSize: Int = 256) throws -> [[Int]] {
        guard let labels = test.labels, test.classNames == network.config.classNames else {
            throw FileFormatError(path: test.root.path, reason: "its classes \(test.classNames) differ from the evaluator's \(network.config.classNames)")
        }
        let k = test.classNames.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for start in stride(from: 0, to: test.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, test.count))
            let logits = network.logits(Variable(test.batch(indices))).value.scalars
            for (row, index) in indices.enumerated() {
                let scores = logits[(row * k)..<((row + 1) * k)]
                confusion[labels[index]][scores.firstIndex(of: scores.max()!)! - row * k] += 1
            }
        }
        return confusion
    }
}

/// Training stopped because it was asked to (a signal), not because of a fault.
public struct TrainingStopped: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "stopped on request" }
}
