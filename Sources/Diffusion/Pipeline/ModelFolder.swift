import Foundation
import NN

/// A model folder in diffusers' pipeline layout:
///
///     model_index.json                         pipeline class and components
///     unet/config.json                         the denoiser's config (UNet2DModel, ...)
///     unet/diffusion_pytorch_model.safetensors weights (ours: the EMA weights)
///     scheduler/scheduler_config.json          the training noise schedule and sampler settings
///     class_names.json                         ours, for class-conditional models: the names in
///                                              label order, then null for the "no class" row of a
///                                              model trained for classifier-free guidance
///     privacy.json                             ours, for a differentially private run: the
///                                              (epsilon, delta) spent, the noise and the accountant
///     training_state/                          ours, for resuming training (for a private run it
///                                              holds the noise seed: keep it as private as the data)
///
/// A folder written by diffusers' `save_pretrained` (DDPMPipeline, DDIMPipeline) loads here,
/// and diffusers loads ours (it ignores class_names.json, privacy.json and training_state/).
public struct ModelFolder {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    var modelIndex: URL { url.appendingPathComponent("model_index.json") }
    var unetConfig: URL { url.appendingPathComponent("unet/config.json") }
    var unetWeights: URL { url.appendingPathComponent("unet/diffusion_pytorch_model.safetensors") }
    var schedulerConfig: URL { url.appendingPathComponent("scheduler/scheduler_config.json") }
    var classNamesFile: URL { url.appendingPathComponent("class_names.json") }
    /// The (epsilon, delta) a differentially private run has spent, and how (`PrivacyRecord`).
    public var privacyFile: URL { url.appendingPathComponent("privacy.json") }
    public var trainingState: URL { url.appendingPathComponent("training_state") }
    /// The checkpoint a run resumes from (a training_state/ folder without it holds no run).
    public var trainingStateFile: URL { trainingState.appendingPathComponent("state.safetensors") }

    /// Whether the folder has a model (its denoiser config).
    public var exists: Bool { FileManager.default.fileExists(atPath: unetConfig.path) }

    /// Reads the denoiser (config and weights; its `_class_name` picks the architecture), the
    /// scheduler config and the class names.
    public func load() throws -> (denoiser: any Denoiser, scheduler: SchedulerConfig, classNames: [String]) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FileFormatError(path: url.path, reason: "no such model folder")
        }
        guard let index = try? JSONSerialization.jsonObject(with: try readSmallFile(modelIndex)) as? [String: Any],
              index["unet"] != nil, index["scheduler"] != nil else {
            throw FileFormatError(path: modelIndex.path, reason: FileManager.default.fileExists(atPath: modelIndex.path)
                ? "must be a JSON object naming the pipeline's unet and scheduler"
                : "missing: a model folder holds model_index.json (diffusers' pipeline layout)")
        }
        guard FileManager.default.fileExists(atPath: unetConfig.path) else {
            throw FileFormatError(path: unetConfig.path, reason: "missing: a model folder holds unet/config.json (diffusers' pipeline layout)")
        }
        let configJSON = try readSmallFile(unetConfig)
        let denoiser: any Denoiser
        do {
            denoiser = try DenoiserRegistry.make(configJSON: configJSON)
        } catch let error as ConfigError {
            throw FileFormatError(path: unetConfig.path, reason: error.description)
        }
        guard FileManager.default.fileExists(atPath: unetWeights.path) else {
            let hasBin = FileManager.default.fileExists(atPath: url.appendingPathComponent("unet/diffusion_pytorch_model.bin").path)
            throw FileFormatError(path: unetWeights.path, reason: hasBin
                ? "missing; only safetensors weights are read (save with safe_serialization=True)"
                : "missing: the denoiser's weights")
        }
        do {
            try denoiser.load(stateDict: try SafeTensors.read(from: unetWeights).tensors)
        } catch let error as StateDictError {
            throw FileFormatError(path: unetWeights.path, reason: "does not fit unet/config.json: \(error)")
        }
        guard FileManager.default.fileExists(atPath: schedulerConfig.path) else {
            throw FileFormatError(path: schedulerConfig.path, reason: "missing: the noise schedule the model was trained with "
                                  + "(diffusers' pipeline layout); sampling without it would guess")
        }
        let scheduler = try SchedulerConfig(json: try readSmallFile(schedulerConfig), path: schedulerConfig.path)
        var classNames: [String] = []
        if FileManager.default.fileExists(atPath: classNamesFile.path) {
            // Names, and a trailing null for a guidance model's "no class" row.
            guard var entries = try? JSONSerialization.jsonObject(with: try readSmallFile(classNamesFile)) as? [Any] else {
                throw FileFormatError(path: classNamesFile.path, reason: "must be a JSON list of strings")
            }
            if entries.last is NSNull { entries.removeLast() }
            guard let names = entries as? [String] else {
                throw FileFormatError(path: classNamesFile.path, reason: "must be a JSON list of strings (and a final null)")
            }
            classNames = names
        }
        return (denoiser, scheduler, classNames)
    }

    /// Writes the pipeline files: configs, `weights` as the weights of `denoiser`'s architecture
    /// (under its parameter names), class names (and a null after them when the denoiser has a
    /// "no class" row, one more class than names). Each file is replaced atomically.
    public func save(denoiser: any Denoiser, weights: [String: Tensor], scheduler: SchedulerConfig,
                     classNames: [String], pipelineClass: String = "DDPMPipeline") throws {
        for folder in ["unet", "scheduler"] {
            try FileManager.default.createDirectory(at: url.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let index: [String: Any] = [
            "_class_name": pipelineClass, "_diffusers_version": UNetConfig.diffusersVersion,
            "scheduler": ["diffusers", scheduler.className ?? "DDPMScheduler"], "unet": ["diffusers", type(of: denoiser).className],
        ]
        try writeAtomically(try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys]), to: modelIndex)
        try writeAtomically(try denoiser.configJSON(), to: unetConfig)
        try writeAtomically(try scheduler.jsonData(), to: schedulerConfig)
        try SafeTensors.write(weights, metadata: ["format": "pt"], to: unetWeights)
        if !classNames.isEmpty {
            let entries: [Any] = classNames + (denoiser.classCount == classNames.count + 1 ? [NSNull()] : [])
            try writeAtomically(try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted]), to: classNamesFile)
        }
    }
}
