import Foundation
import NN

/// A small CNN classifier whose penultimate layer gives image features:
///
///     stem    conv 3x3 (C -> w), group norm, SiLU            H x W
///     down1   conv 3x3 stride 2 (w -> 2w), group norm, SiLU  H/2
///     down2   conv 3x3 stride 2 (2w -> 4w), group norm, SiLU H/4
///     mix     conv 3x3 (4w -> 4w), group norm, SiLU
///     pool    global average -> the features (4w)
///     head    linear (4w -> classes)
///
/// Global pooling makes it take any image size. Trained on labelled real data it is the
/// evaluator of that data; with its seeded random initialization and no training it is the
/// random-weight extractor for any folder (random conv nets give useful distances between
/// image sets: Naeem et al. 2020).
public final class EvaluatorNetwork: Module {
    public struct Config: Codable, Equatable, Sendable {
        /// The architecture this code builds; a config naming another cannot be loaded.
        public static let currentArchitecture = "diffuse-evaluator-cnn/1"

        public var architecture = Config.currentArchitecture
        public var inChannels: Int
        public var resolution: Int
        public var width: Int = 32
        public var classNames: [String]

        enum CodingKeys: String, CodingKey {
            case architecture, inChannels = "in_channels", resolution, width, classNames = "class_names"
        }

        public init(inChannels: Int, resolution: Int, width: Int = 32, classNames: [String]) {
            (self.inChannels, self.resolution, self.width, self.classNames) = (inChannels, resolution, width, classNames)
        }

        public var featureDimension: Int { 4 * width }
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
