import Foundation
import NN

/// An evaluator network on disk: `config.json` (architecture, input size, class names) and
/// `model.safetensors` (weights under their parameter names).
public enum EvaluatorFolder {
    public static func save(_ network: EvaluatorNetwork, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try encoder.encode(network.config), to: folder.appendingPathComponent("config.json"))
        var tensors = network.stateDict()
        if let standardization = network.standardization {
            let d = standardization.mean.count
            tensors[EvaluatorNetwork.Standardization.meanName] = Tensor(shape: [d], standardization.mean)
            tensors[EvaluatorNetwork.Standardization.scaleName] = Tensor(shape: [d], standardization.scale)
        }
        try SafeTensors.write(tensors, to: folder.appendingPathComponent("model.safetensors"))
    }

    /// The network in `folder`, as an extractor named after the folder and its weights.
    public static func load(from folder: URL) throws -> EvaluatorExtractor {
        let configURL = folder.appendingPathComponent("config.json")
        let config: EvaluatorNetwork.Config
        do {
            config = try JSONDecoder().decode(EvaluatorNetwork.Config.self, from: readSmallFile(configURL))
        } catch {
            throw FileFormatError(path: configURL.path, reason: "is not an evaluator config (\(error.localizedDescription))")
        }
        guard EvaluatorNetwork.Config.knownArchitectures.contains(config.architecture),
              config.width > 0, config.width % 8 == 0, config.inChannels == 1 || config.inChannels == 3,
              config.resolution >= 4, !config.classNames.isEmpty else {
            throw FileFormatError(path: configURL.path, reason: "unsupported evaluator architecture or settings")
        }
        let network = EvaluatorNetwork(config: config)
        let weightsURL = folder.appendingPathComponent("model.safetensors")
        let weights = try SafeTensors.read(from: weightsURL)
        var parameters = weights.tensors
        let mean = parameters.removeValue(forKey: EvaluatorNetwork.Standardization.meanName)
        let scale = parameters.removeValue(forKey: EvaluatorNetwork.Standardization.scaleName)
        do {
            try network.load(stateDict: parameters)
        } catch {
            throw FileFormatError(path: weightsURL.path, reason: "does not fit config.json: \(error)")
        }
        if config.multiLayerFeatures {
            let d = config.featureDimension
            guard let mean, let scale, mean.shape == [d], scale.shape == [d], scale.scalars.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw FileFormatError(path: weightsURL.path, reason: "needs the \(d) feature means and positive scales of \(config.architecture)")
            }
            network.standardization = .init(mean: mean.scalars, scale: scale.scalars)
        }
        return EvaluatorExtractor(network: network, name: "evaluator \(folder.lastPathComponent) (\(fingerprint(weights.tensors)))")
    }

    /// A short hex digest of the weights, so reports tell evaluators apart.
    static func fingerprint(_ tensors: [String: Tensor]) -> String {
        var hash = FNV1a()
        for name in tensors.keys.sorted() {
            hash.add(Array(name.utf8))
            tensors[name]!.withUnsafeBufferPointer { hash.add(UnsafeRawBufferPointer($0)) }
        }
        return String(hash.value, radix: 16)
    }
}

/// 64-bit FNV-1a: a stable (unseeded) digest for cache keys and fingerprints.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01B3
        }
    }
}
