import Foundation
import Imaging
import NN

/// A small CNN classifier whose activations give image features:
///
///     stem    conv 3x3 (C -> w), group norm, SiLU            H x W
///     down1   conv 3x3 stride 2 (w -> 2w), group norm, SiLU  H/2
///     down2   conv 3x3 stride 2 (2w -> 4w), group norm, SiLU H/4
///     mix     conv 3x3 (4w -> 4w), group norm, SiLU
///     pool    global average -> the penultimate features (4w)
///     head    linear (4w -> classes)
///
/// Two ways to read features, named by the config's architecture:
/// - "diffuse-evaluator-cnn/1": the penultimate layer (4w). It sees class well and little else:
///   group norm removes each image's brightness and contrast, and average pooling removes how
///   sharp the stages' responses are, so a gray background or a light blur barely moves it.
/// - "diffuse-evaluator-cnn/2": the mean and the standard deviation over positions of every
///   channel of the stem's convolution before its norm (absolute levels: background, contrast)
///   and of every stage's output (texture and edges at three scales, then shape and class):
///   24w numbers, each standardized by its mean and standard deviation over the training images
///   so that no layer outweighs the others in the distances.
///
/// Global pooling makes it take any image size. Trained on labelled real data it is the
/// evaluator of that data; with its seeded random initialization and no training it is the
/// random-weight extractor for any folder (random conv nets give useful distances between
/// image sets: Naeem et al. 2020).
public final class EvaluatorNetwork: Module {
    public struct Config: Codable, Equatable, Sendable {
        /// Penultimate-layer features, as the first shipped evaluator.
        public static let penultimateArchitecture = "diffuse-evaluator-cnn/1"
        /// Pooled statistics of every stage, standardized: what new evaluators are.
        public static let multiLayerArchitecture = "diffuse-evaluator-cnn/2"
        public static let currentArchitecture = multiLayerArchitecture
        /// The architectures this code reads; a config naming another cannot be loaded.
        public static let knownArchitectures = [penultimateArchitecture, multiLayerArchitecture]

        public var architecture = Config.currentArchitecture
        public var inChannels: Int
        public var resolution: Int
        public var width: Int = 32
        public var classNames: [String]

        enum CodingKeys: String, CodingKey {
            case architecture, inChannels = "in_channels", resolution, width, classNames = "class_names"
        }

        public init(architecture: String = Config.currentArchitecture, inChannels: Int, resolution: Int,
                    width: Int = 32, classNames: [String]) {
            (self.architecture, self.inChannels, self.resolution) = (architecture, inChannels, resolution)
            (self.width, self.classNames) = (width, classNames)
        }

        /// Whether features are the pooled statistics of every stage (architecture 2).
        public var multiLayerFeatures: Bool { architecture == Config.multiLayerArchitecture }

        /// The length of a feature vector: 4w, or 2 (w + w + 2w + 4w + 4w) with every stage.
        public var featureDimension: Int { multiLayerFeatures ? 24 * width : 4 * width }
    }

    /// The mean and standard deviation of each multi-layer feature over the training images;
    /// features are reported as (raw - mean) / scale. Saved beside the weights.
    public struct Standardization: Equatable, Sendable {
        public static let meanName = "standardization.mean", scaleName = "standardization.scale"
        public var mean: [Float]
        public var scale: [Float]
    }


    /// A conv, its group norm and SiLU.
    final class Stage: Module {
        let conv: Conv2d
        let norm: GroupNorm
        init(_ input: Int, _ output: Int, stride: Int, seeds: inout SeedSequence) {
            conv = Conv2d(input, output, kernelSize: 3, stride: stride, padding: 1, seeds: &seeds)
            norm = GroupNorm(groups: 8, channels: output)
        }
        var namedParameters: [(name: String, parameter: Variable)] { prefixed("conv", conv) + prefixed("norm", norm) }
        func callAsFunction(_ x: Variable) -> Variable { silu(norm(conv(x))) }
    }

    public let config: Config
    let stages: [Stage]
    let head: Linear?
    /// Set for architecture 2 by `standardize(on:)` or when loaded.
    public var standardization: Standardization?

    /// A network with PyTorch's default initialization from `seed`; no head when there are no classes.
    public init(config: Config, seed: UInt64 = 0) {
        precondition(config.width % 8 == 0, "width must be a multiple of 8 (group norm)")
        self.config = config
        var seeds = SeedSequence(seed: seed)
        let w = config.width
        stages = [Stage(config.inChannels, w, stride: 1, seeds: &seeds), Stage(w, 2 * w, stride: 2, seeds: &seeds),
                  Stage(2 * w, 4 * w, stride: 2, seeds: &seeds), Stage(4 * w, 4 * w, stride: 1, seeds: &seeds)]
        head = config.classNames.isEmpty ? nil : Linear(4 * w, config.classNames.count, seeds: &seeds)
    }

    public var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("stages", stages) + prefixed("head", head)
    }

    /// Features (N, 4w) of images (N, C, H, W) in [-1, 1].
    public func features(_ images: Variable) -> Variable {
        globalAveragePool(stages.reduce(images) { $1($0) })
    }

    /// The features `evaluate` reads (N, featureDimension) of images (N, C, H, W) in [-1, 1]:
    /// the penultimate layer, or with architecture 2 the standardized pooled statistics.
    public func evaluationFeatures(_ images: Tensor) -> Tensor {
        guard config.multiLayerFeatures else { return features(Variable(images)).value }
        var raw = pooledStatistics(images)
        if let standardization {
            let d = config.featureDimension
            raw.withUnsafeMutableBufferPointer { values in
                for i in values.indices { values[i] = (values[i] - standardization.mean[i % d]) / standardization.scale[i % d] }
            }
        }
        return raw
    }

    /// The unstandardized multi-layer features (N, 24w): for the stem's convolution before its
    /// norm and then each stage's output, every channel's mean over positions, then every
    /// channel's standard deviation.
    func pooledStatistics(_ images: Tensor) -> Tensor {
        var x = Variable(images)
        var taps: [Tensor] = []
        for (index, stage) in stages.enumerated() {
            let convolved = stage.conv(x)
            if index == 0 { taps.append(convolved.value) }
            x = silu(stage.norm(convolved))
            taps.append(x.value)
        }
        let n = images.shape[0], d = config.featureDimension
        var out = [Float](repeating: 0, count: n * d)
        var offset = 0
        for tap in taps {
            let (channels, area) = (tap.shape[1], tap.shape[2] * tap.shape[3])
            tap.withUnsafeBufferPointer { values in
                for image in 0..<n {
                    for c in 0..<channels {
                        let plane = values[((image * channels + c) * area)..<((image * channels + c + 1) * area)]
                        var sum = 0.0, squares = 0.0
                        for v in plane { (sum, squares) = (sum + Double(v), squares + Double(v) * Double(v)) }
                        let mean = sum / Double(area)
                        out[image * d + offset + c] = Float(mean)
                        out[image * d + offset + channels + c] = Float(max(0, squares / Double(area) - mean * mean).squareRoot())
                    }
                }
            }
            offset += 2 * channels
        }
        return Tensor(shape: [n, d], out)
    }

    /// Sets the standardization of the multi-layer features to their mean and standard
    /// deviation over `dataset` (a feature constant over it keeps scale 1).
    public func standardize(on dataset: ImageDataset, batchSize: Int = 250) {
        let d = config.featureDimension
        var sums = [Double](repeating: 0, count: d), squares = sums
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let raw = pooledStatistics(dataset.batch(Array(start..<min(start + batchSize, dataset.count))))
            raw.withUnsafeBufferPointer { values in
                for (i, v) in values.enumerated() { (sums[i % d], squares[i % d]) = (sums[i % d] + Double(v), squares[i % d] + Double(v) * Double(v)) }
            }
        }
        let count = Double(max(1, dataset.count))
        let mean = sums.map { $0 / count }
        let scale = zip(mean, squares).map { m, square in
            let sd = max(0, square / count - m * m).squareRoot()
            return sd > 1e-6 ? sd : 1
        }
        standardization = Standardization(mean: mean.map(Float.init), scale: scale.map(Float.init))
    }

    /// Class logits (N, classes); needs a head.
    public func logits(_ images: Variable) -> Variable {
        guard let head else { preconditionFailure("a network without classes has no logits") }
        return head(features(images))
    }
}
