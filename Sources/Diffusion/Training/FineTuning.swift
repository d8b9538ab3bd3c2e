import Foundation
import NN

/// The start of a fine-tuning run (`diffuse train --init-from MODEL`): a trained model's
/// architecture, weights and noise schedule, on data of the same classes. Training then goes on
/// as any new run does (fresh AdamW moments, the EMA starting from these weights).
public struct FineTuningStart {
    /// The denoiser to train, holding the model's weights.
    public let denoiser: any Denoiser
    /// The model's training noise schedule and prediction type, which the run keeps.
    public let scheduler: SchedulerConfig
    /// Whether a "no class" row was added to the model's class embedding (for class dropout).
    public let addedNullClass: Bool

    /// Loads `folder` for fine-tuning on data with `classNames` (in label order; empty for
    /// unconditional data). With `nullClass`, the run trains classifier-free guidance: a model
    /// without a "no class" row gets one, initialized to the mean of its class rows (a neutral
    /// start: the embedding the model gives an average class).
    public init(folder: ModelFolder, classNames: [String], nullClass: Bool) throws {
        let (model, scheduler, modelClassNames) = try folder.load()
        let path = folder.url.path
        let classes = model.classes(named: modelClassNames)
        switch (classes, classNames.isEmpty) {
        case (nil, false):
            throw FileFormatError(path: path, reason: "is unconditional, the data has class folders (train with --unconditional)")
        case (.some, true):
            throw FileFormatError(path: path, reason: "is class-conditional, the data has no class folders (or --unconditional was given)")
        case let (.some(classes), false):
            guard modelClassNames == classNames else {
                throw FileFormatError(path: path, reason: "its classes (\(modelClassNames.joined(separator: ", "))) are not the data's "
                                      + "(\(classNames.joined(separator: ", "))), in the same order")
            }
            if classes.nullLabel != nil && !nullClass {
                throw FileFormatError(path: path, reason: "has a \"no class\" row: fine-tune it with --class-dropout above 0")
            }
        case (nil, true):
            break
        }
        try Self.check(scheduler, path: folder.schedulerConfig.path)
        self.scheduler = scheduler
        addedNullClass = nullClass && classes != nil && classes?.nullLabel == nil
        denoiser = addedNullClass ? try Self.withNullClassRow(model) : model
    }

    /// Refuses a schedule that `diffuse train` cannot reproduce: it trains with diffusers'
    /// default beta ends (1e-4, 0.02) and no trained betas or zero-SNR rescaling.
    private static func check(_ config: SchedulerConfig, path: String) throws {
        func refuse(_ field: String, _ value: String) throws {
            throw FileFormatError(path: path, reason: "\(field) \(value): diffuse train cannot fine-tune with it")
        }
        if let start = config.betaStart, start != 1e-4 { try refuse("beta_start", "\(start)") }
        if let end = config.betaEnd, end != 0.02 { try refuse("beta_end", "\(end)") }
        if config.trainedBetas != nil { try refuse("trained_betas", "set") }
        if config.rescaleBetasZeroSNR == true { try refuse("rescale_betas_zero_snr", "true") }
    }

    /// `model` with one more class-embedding row, the mean of the others; every other weight kept.
    private static func withNullClassRow(_ model: any Denoiser) throws -> any Denoiser {
        guard var config = try JSONSerialization.jsonObject(with: model.configJSON()) as? [String: Any],
              let rows = config["num_class_embeds"] as? Int else {
            throw ConfigError(field: "num_class_embeds", reason: "missing: the model cannot take a \"no class\" row")
        }
        config["num_class_embeds"] = rows + 1
        let extended = try DenoiserRegistry.make(configJSON: JSONSerialization.data(withJSONObject: config))
        var weights = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value) })
        let key = "class_embedding.weight"
        guard let table = weights[key], table.shape.count == 2, table.shape[0] == rows else {
            throw ConfigError(field: "num_class_embeds", reason: "the model has no \(key) of \(rows) rows")
        }
        let width = table.shape[1]
        let values = table.scalars
        let mean = (0..<width).map { j in (0..<rows).reduce(Float(0)) { $0 + values[$1 * width + j] } / Float(rows) }
        weights[key] = Tensor(shape: [rows + 1, width], values + mean)
        try extended.load(stateDict: weights)
        return extended
    }
}
