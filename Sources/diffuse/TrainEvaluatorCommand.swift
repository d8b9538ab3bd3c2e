import ArgumentParser
import Evaluation
import Foundation
import Imaging
import NN

struct TrainEvaluator: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-evaluator",
        abstract: "Train the small CNN classifier whose features `diffuse evaluate` uses for a dataset.",
        discussion: "Writes OUT/config.json, OUT/model.safetensors and OUT/README.md with the test accuracy."
    )

    @Option(help: "The class-folder training images.")
    var data: String
    @Option(help: "Class-folder test images (default: none; then no accuracy is reported).")
    var test: String?
    @Option(help: "The evaluator folder to write.")
    var out: String
    @Option(help: "Side of the square images it reads.")
    var resolution: Int = 28
    @Option(help: "1 (gray) or 3 (RGB).")
    var channels: Int = 1
    @Option(help: "Passes over the training images (0 with --from: only measure the feature standardization).")
    var epochs: Int = 5
    @Option(help: "Start from this evaluator's weights (a folder, or a shipped evaluator's name) instead of a fresh network.")
    var from: String?
    @Option(help: "Images per step.")
    var batchSize: Int = 128
    @Option(help: "Peak learning rate.")
    var learningRate: Double = 2e-3
    @Option(help: "Seed of the initialization and the batch order.")
    var seed: UInt64 = 0
    @Option(help: "Features: 2 (pooled statistics of every layer, standardized: sees background, texture and shape as well as class) or 1 (the penultimate layer only, as the first evaluators).")
    var architecture: Int = 2

    func validate() throws {
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3") }
        guard (8...1024).contains(resolution) else { throw ValidationError("--resolution must be within 8...1024") }
        guard learningRate.isFinite, learningRate > 0, learningRate < 1 else { throw ValidationError("--learning-rate must be in (0, 1)") }
        guard batchSize <= 65536 else { throw ValidationError("--batch-size must be at most 65536") }
        guard epochs >= (from == nil ? 1 : 0), batchSize >= 1 else {
            throw ValidationError("--epochs and --batch-size must be positive (--epochs 0 only with --from)")
        }
        guard architecture == 1 || architecture == 2 else { throw ValidationError("--architecture must be 1 or 2") }
    }

    /// Whether --out already holds an evaluator (its config.json), which is never overwritten.
    private var outHoldsEvaluator: Bool {
        FileManager.default.fileExists(atPath: URL(fileURLWithPath: out).appendingPathComponent("config.json").path)
    }

    func run() throws {
        if outHoldsEvaluator {
            throw CommandError("\(out): already holds an evaluator; choose a new --out (an evaluator folder is not overwritten)")
        }
        let train = try ImageDataset.load(folder: URL(fileURLWithPath: data), resolution: resolution, channels: channels)
        let testSet = try test.map { try ImageDataset.load(folder: URL(fileURLWithPath: $0), resolution: resolution, channels: channels) }
        var recipe = EvaluatorTraining()
        (recipe.epochs, recipe.batchSize, recipe.learningRate, recipe.seed) = (epochs, batchSize, learningRate, seed)
        recipe.architecture = EvaluatorNetwork.Config.knownArchitectures[architecture - 1]
        print("Training an evaluator on \(train.count) images, \(train.classNames.count) classes, \(epochs) epochs")
        let started = Date()
        let progress = Progress(total: recipe.steps(forImages: train.count), unit: "img")
        let initial = try from.map { try ShippedEvaluators.load($0).network }
        let network = try recipe.train(train, startingFrom: initial, progress: { step, _, loss in
            progress.update(step, String(format: "loss %.4f", loss), unitsPerItem: Double(batchSize))
        })
        progress.finish()
        let minutes = Date().timeIntervalSince(started) / 60
        let folder = URL(fileURLWithPath: out)
        let lock = try FolderLock(folder)
        defer { withExtendedLifetime(lock) {} }
        if outHoldsEvaluator {
            throw CommandError("\(out): an evaluator was written there while this one trained; nothing written")
        }
        try EvaluatorFolder.save(network, to: folder)
        var accuracyLine = "No test set was given."
        if let testSet {
            let accuracy = try EvaluatorTraining.accuracy(of: network, on: testSet)
            accuracyLine = String(format: "Test accuracy: %.2f%% on %d images of %@.", accuracy * 100, testSet.count, test!)
        }
        print(accuracyLine)
        let readme = """
            # Evaluator: \(folder.lastPathComponent)

            A small CNN classifier (`EvaluatorNetwork`, \(network.config.architecture), width \(network.config.width), \
            \(network.config.featureDimension) features) whose \(featureSource(network.config)) give the image \
            features `diffuse evaluate` uses for this kind of data. Input: \(channels)x\(resolution)x\(resolution), \
            pixels in [-1, 1]. Classes: \(network.config.classNames.joined(separator: ", ")).

            \(accuracyLine)

            Trained on \(train.count) images of `\(data)` for \(epochs) epochs\(from.map { " from the weights of `\($0)`" } ?? "") \
            (batch \(batchSize), AdamW, peak learning rate \(learningRate), seed \(seed)) in \(String(format: "%.1f", minutes)) minutes:

                diffuse train-evaluator --data \(data)\(test.map { " --test \($0)" } ?? "") --out \(out) \
            --resolution \(resolution) --channels \(channels) --epochs \(epochs) --architecture \(architecture)\(from.map { " --from \($0)" } ?? "")

            """
        try writeAtomically(Array(readme.utf8), to: folder.appendingPathComponent("README.md"))
        print("Wrote \(out)")
    }

    /// Where the features come from, in words.
    private func featureSource(_ config: EvaluatorNetwork.Config) -> String {
        config.multiLayerFeatures
            ? "penultimate layer and the statistics of its stem convolution (each channel's mean, standard deviation and 10th, 50th and 90th percentiles over positions), standardized over the training images,"
            : "penultimate layer's pooled activations"
    }
}
