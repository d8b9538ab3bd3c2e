import Foundation
import NN

/// Turns images into feature vectors for the metrics. Scores from different extractors cannot be
/// compared, so every report names its extractor.
public protocol FeatureExtractor {
    /// A name for reports and the cache key, e.g. "evaluator:fashion-mnist (sha 1a2b...)".
    var name: String { get }
    /// The image size and channel count the extractor reads (images are fitted to it).
    var resolution: Int { get }
    var channels: Int { get }
    /// Features (N, D) of images (N, C, H, W) in [-1, 1].
    func features(_ images: Tensor) -> Tensor
    /// Class probabilities (N, K) when the extractor is a classifier.
    func probabilities(_ images: Tensor) -> Tensor?
}

/// The penultimate layer of a trained evaluator network (and its class probabilities).
public struct EvaluatorExtractor: FeatureExtractor {
    public let network: EvaluatorNetwork
    public let name: String

    public init(network: EvaluatorNetwork, name: String) {
        self.network = network
        self.name = name
    }

    public var resolution: Int { network.config.resolution }
    public var channels: Int { network.config.inChannels }
    public func features(_ images: Tensor) -> Tensor { network.evaluationFeatures(images) }
    public func probabilities(_ images: Tensor) -> Tensor? { softmax(network.logits(Variable(images))).value }
}

/// A fixed random-weight network: the evaluator architecture (width 32, 128 features) with its
/// seeded PyTorch-style initialization from seed 0 and no training. It works for any folder,
/// size and channel count.
public struct RandomNetworkExtractor: FeatureExtractor {
    public static let seed: UInt64 = 0
    let network: EvaluatorNetwork
    public let resolution: Int
    public let channels: Int

    public init(resolution: Int, channels: Int) {
        network = EvaluatorNetwork(config: .init(architecture: EvaluatorNetwork.Config.penultimateArchitecture, inChannels: channels,
                                                 resolution: resolution, classNames: []), seed: Self.seed)
        (self.resolution, self.channels) = (resolution, channels)
    }

    public var name: String { "random-cnn (seed \(Self.seed), width 32, 128 features, \(channels)x\(resolution)x\(resolution))" }
    public func features(_ images: Tensor) -> Tensor { network.features(Variable(images)).value }
    public func probabilities(_ images: Tensor) -> Tensor? { nil }
}

/// The pixels themselves, flattened.
public struct PixelExtractor: FeatureExtractor {
    public let resolution: Int
    public let channels: Int

    public init(resolution: Int, channels: Int) { (self.resolution, self.channels) = (resolution, channels) }

    public var name: String { "pixels (\(channels)x\(resolution)x\(resolution))" }
    public func features(_ images: Tensor) -> Tensor { images.reshaped([images.shape[0], images.count / max(images.shape[0], 1)]) }
    public func probabilities(_ images: Tensor) -> Tensor? { nil }
}
