import Foundation
import NN

/// What a denoiser is told about each sample besides the noisy sample and its timestep.
public struct Conditioning: Sendable {
    /// The class of each sample, for a class-conditional model; nil otherwise.
    public var classLabels: [Int]?

    public init(classLabels: [Int]? = nil) { self.classLabels = classLabels }
}

/// A network that predicts the noise (or v, or x0) in a noisy sample: what the trainer trains,
/// the sampling pipeline runs and a model folder holds. Each architecture is one conformer,
/// found by diffusers' class name in `DenoiserRegistry`; `UNet2DModel` is the first.
public protocol Denoiser: Module {
    /// diffusers' `_class_name` of the architecture ("UNet2DModel").
    static var className: String { get }
    /// The shape of one sample: (channels, height, width).
    var sampleShape: [Int] { get }
    /// The number of classes of a class-conditional model; nil otherwise.
    var classCount: Int? { get }
    /// The architecture's config as diffusers writes it (config.json), `_class_name` included.
    func configJSON() throws -> Data
    /// A denoiser of the same architecture with fresh weights (PyTorch's initialization, seeded).
    func sameArchitecture(seed: UInt64) throws -> Self
    /// The prediction (N, C, H, W) for noisy samples (N, C, H, W) at `timesteps` (N).
    func callAsFunction(_ sample: Variable, timesteps: [Float], conditioning: Conditioning) -> Variable
}

/// The denoiser architectures Diffuse can build, by diffusers' class name.
public enum DenoiserRegistry {
    /// Builds a denoiser from its config.json and a seed for its fresh weights.
    public typealias Maker = (_ configJSON: Data, _ seed: UInt64) throws -> any Denoiser

    private static let makers: [String: Maker] = [
        UNet2DModel.className: { json, seed in try UNet2DModel(config: UNetConfig(json: json), seed: seed) },
    ]

    /// The class names it knows, sorted.
    public static var classNames: [String] { makers.keys.sorted() }

    /// The denoiser a config.json describes (its `_class_name` picks the architecture), with
    /// fresh weights from `seed`. Throws a ConfigError naming the field that is wrong.
    public static func make(configJSON: Data, seed: UInt64 = 0) throws -> any Denoiser {
        guard let object = try? JSONSerialization.jsonObject(with: configJSON) as? [String: Any] else {
            throw ConfigError(field: "(file)", reason: "is not a JSON object")
        }
        let name = object["_class_name"] as? String ?? UNet2DModel.className
        guard let make = makers[name] else {
            throw ConfigError(field: "_class_name", reason: "is \(name); supported: \(classNames.joined(separator: ", "))")
        }
        return try make(configJSON, seed)
    }
}

extension Denoiser {
    /// The classes samples can be asked for, and the "no class" row of a model trained for
    /// classifier-free guidance: with the names of class_names.json, a model with one class row
    /// more than names has that row last. Nil for an unconditional model.
    public func classes(named names: [String]) -> (count: Int, nullLabel: Int?)? {
        guard let rows = classCount else { return nil }
        return rows == names.count + 1 ? (names.count, rows - 1) : (rows, nil)
    }
}
