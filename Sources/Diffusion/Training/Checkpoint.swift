import Foundation
import NN

/// Checkpoints of a training run. The pipeline files get the EMA weights (what sampling uses);
/// `training_state/state.safetensors` gets everything a resume needs in one file, written
/// atomically: raw weights, EMA averages, AdamW's moments, the step, and the options. The
/// random state needs no saving: every random choice is a function of (seed, step).
extension Trainer {
    static let stateFormat = "diffuse-training-state/1"

    /// Sorted keys: the same run writes the same bytes.
    private static var optionsEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// Writes the training state, then the pipeline folder with the EMA weights.
    public func saveCheckpoint(to folder: ModelFolder, classNames: [String]) throws {
        try FileManager.default.createDirectory(at: folder.trainingState, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for (i, (name, parameter)) in denoiser.namedParameters.enumerated() {
            tensors["model/\(name)"] = parameter.value
            tensors["ema/\(name)"] = ema.averages[i]
            tensors["adam_m/\(name)"] = optimizer.firstMoments[i]
            tensors["adam_v/\(name)"] = optimizer.secondMoments[i]
        }
        let metadata = [
            "format": Self.stateFormat,
            "step": String(step),
            "adam_step": String(optimizer.step),
            "ema_updates": String(ema.updates),
            "options": String(decoding: try Self.optionsEncoder.encode(options), as: UTF8.self),
            "unet_config": String(decoding: try denoiser.configJSON(), as: UTF8.self),
        ]
        try SafeTensors.write(tensors, metadata: metadata, to: folder.trainingStateFile)
        try folder.save(denoiser: denoiser, weights: emaWeights, scheduler: schedulerConfig, classNames: classNames)
        if let spent = privacySpent {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeAtomically(try encoder.encode(spent), to: folder.privacyFile)
        }
    }

    /// The options of the run whose state is in `folder`, and its denoiser (fresh weights from
    /// the run's seed, as the run started; `restore(from:)` loads the saved ones).
    public static func savedRun(in folder: ModelFolder) throws -> (options: TrainingOptions, denoiser: any Denoiser) {
        let file = folder.trainingStateFile
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw FileFormatError(path: file.path, reason: "missing: nothing to resume (train without --resume to start)")
        }
        let state = try SafeTensors.read(from: file)
        let (options, configJSON) = try parseRun(state, path: file.path)
        do {
            return (options, try DenoiserRegistry.make(configJSON: configJSON, seed: options.seed))
        } catch {
            throw FileFormatError(path: file.path, reason: "denoiser config: \(error)")
        }
    }

    /// The run's options and its denoiser's config.json, checked for presence and format.
    private static func parseRun(_ state: SafeTensorsFile, path: String) throws -> (options: TrainingOptions, configJSON: Data) {
        guard state.metadata["format"] == stateFormat else {
            throw FileFormatError(path: path, reason: "is not a Diffuse training state (\(stateFormat))")
        }
        guard let optionsJSON = state.metadata["options"], let unetJSON = state.metadata["unet_config"],
              let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(optionsJSON.utf8)) else {
            throw FileFormatError(path: path, reason: "lacks the run's options or denoiser config")
        }
        if let problem = options.problem { throw FileFormatError(path: path, reason: "its saved options are not a run: \(problem)") }
        return (options, Data(unetJSON.utf8))
    }

    /// Continues from the state in `folder`: weights, EMA, AdamW and the step count. Everything
    /// is read and checked before anything changes.
    public func restore(from folder: ModelFolder) throws {
        let file = folder.trainingStateFile
        let state = try SafeTensors.read(from: file)
        _ = try Self.parseRun(state, path: file.path)
        guard let savedStep = state.metadata["step"].flatMap(Int.init),
              let adamStep = state.metadata["adam_step"].flatMap(Int.init),
              let emaUpdates = state.metadata["ema_updates"].flatMap(Int.init),
              savedStep >= 0, adamStep >= 0, emaUpdates >= 0 else {
            throw FileFormatError(path: file.path, reason: "lacks the step counts, or they are negative")
        }
        let named = denoiser.namedParameters
        func tensors(_ prefix: String) throws -> [Tensor] {
            try named.map { name, parameter in
                guard let tensor = state["\(prefix)/\(name)"], tensor.shape == parameter.value.shape else {
                    throw FileFormatError(path: file.path, reason: "\(prefix)/\(name) is missing or has the wrong shape")
                }
                return tensor
            }
        }
        let (model, averages) = (try tensors("model"), try tensors("ema"))
        let (first, second) = (try tensors("adam_m"), try tensors("adam_v"))
        for ((_, parameter), value) in zip(named, model) { parameter.value = value }
        ema.restore(averages: averages, updates: emaUpdates)
        optimizer.restore(step: adamStep, firstMoments: first, secondMoments: second)
        step = savedStep
    }
}
