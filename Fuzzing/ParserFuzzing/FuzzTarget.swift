import Diffusion
import Foundation
import Imaging
import NN

/// A parser of untrusted bytes that the fuzzer drives: each reads a file format Diffuse accepts
/// from users, and must answer any input with a value or a thrown error, never a trap, a hang
/// or an unbounded allocation.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Model weights, evaluator weights and training state (`SafeTensors.decode`).
    case safetensors
    /// Feature statistics and fixtures (`Npy.decode`).
    case npy
    /// Fashion-MNIST's files, raw or gzip-compressed (`IDXArray.decode`).
    case idx
    /// Training and evaluation images, decoded to gray and to RGB (`PNG.decode`).
    case png
    /// unet/config.json, parsed and validated.
    case unetConfig = "unet-config"
    /// scheduler/scheduler_config.json, parsed, then every sampler built from it and set to a
    /// step count taken from the input (refused when any sampler refuses it).
    case schedulerConfig = "scheduler-config"

    /// What feeding `bytes` to the parser gave.
    public enum Outcome: Equatable, Sendable {
        case accepted
        /// The parser refused the input with this message.
        case refused(String)
    }

    /// Runs the parser on `bytes`; errors are the expected answer to bad input, so they are
    /// returned rather than thrown.
    public func run(_ bytes: [UInt8]) -> Outcome {
        let path = "fuzz-input"
        do {
            switch self {
            case .safetensors:
                _ = try SafeTensors.decode(Data(bytes), path: path)
            case .npy:
                _ = try Npy.decode(Data(bytes), path: path).tensor()
            case .idx:
                _ = try IDXArray.decode(bytes, path: path)
            case .png:
                _ = try PNG.decode(bytes, path: path, channels: 1)
                _ = try PNG.decode(bytes, path: path, channels: 3)
            case .unetConfig:
                try UNetConfig(json: Data(bytes)).validate()
            case .schedulerConfig:
                let config = try SchedulerConfig(json: Data(bytes), path: path)
                _ = try config.noiseSchedule()
                _ = try config.prediction()
                // Every sampler is tried, even after one refuses. A step count from the input's
                // length keeps a run reproducible from the file (4 at least, PNDM's minimum).
                let steps = 4 + bytes.count % 47
                var refusals: [String] = []
                for kind in SchedulerKind.allCases {
                    do {
                        try kind.make(config: config).setTimesteps(steps)
                    } catch {
                        refusals.append("\(kind.rawValue): \(error)")
                    }
                }
                if !refusals.isEmpty { return .refused(refusals.joined(separator: "; ")) }
            }
            return .accepted
        } catch {
            return .refused(String(describing: error))
        }
    }
}
