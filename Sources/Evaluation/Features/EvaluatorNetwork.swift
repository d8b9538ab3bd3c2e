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
/// Two ways to read features, named by the config's architecture (EvaluatorReadout.swift):
/// - "diffuse-evaluator-cnn/1": the penultimate layer (4w). It sees class and shape, and little
///   of how an image is drawn: group norm removes each image's brightness and contrast, so a
///   gray background or faint noise barely moves it.
/// - "diffuse-evaluator-cnn/2": the penultimate layer and, beside it, statistics of the stem's
///   convolution before its norm (each channel's mean, standard deviation and 10th, 50th and
///   90th percentiles over positions: the background level, contrast, edges and noise), 9w
///   numbers standardized over the training images.
///
/// Global pooling makes it take any image size. Trained on labelled real data it is the
/// evaluator of that data; with its seeded random initialization and no training it is the
/// random-weight extractor for any folder (random conv nets give useful distances between
/// image sets: Naeem et al. 2020).
public final class EvaluatorNetwork: Module {
    public struct Config: Codable, Equatable, Sendable {
        /// Penultimate-layer features, as the first shipped evaluator.
        public static let penultimateArchitecture = "diffuse-evaluator-cnn/1"
        /// The penultimate layer and the stem's statistics, standardized: what new evaluators are.
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

        /// Whether features include the stem's statistics (architecture 2).
        public var multiLayerFeatures: Bool { architecture == Config.multiLayerArchitecture }

        /// The length of a feature vector: 4w, or 4w + 5w with the stem's statistics.
        public var featureDimension: Int { multiLayerFeatures ? 9 * width : 4 * width }
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

    /// Class logits (N, classes); needs a head.
    public func logits(_ images: Variable) -> Variable {
        guard let head else { preconditionFailure("a network without classes has no logits") }
        return head(features(images))
    }
}
