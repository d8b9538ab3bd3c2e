import Foundation
import NN

/// A diffusers `scheduler_config.json`, key for key. A key missing from the file stays nil and
/// takes the reading scheduler's own default; a key present is used as written, whichever
/// scheduler wrote it (as diffusers' `from_config` does).
public struct SchedulerConfig: Equatable, Sendable {
    public var className: String?
    public var numTrainTimesteps: Int?
    public var betaStart: Double?
    public var betaEnd: Double?
    public var betaSchedule: String?
    public var trainedBetas: [Double]?
    public var predictionType: String?
    public var clipSample: Bool?
    public var clipSampleRange: Double?
    public var thresholding: Bool?
    public var timestepSpacing: String?
    public var stepsOffset: Int?
    public var rescaleBetasZeroSNR: Bool?
    /// DDPM: fixed_small, fixed_large, ...
    public var varianceType: String?
    /// DDIM: whether the step after t = 0 uses alpha_cumprod 1 (else alphas_cumprod[0]).
    public var setAlphaToOne: Bool?
    /// Sigma-based schedulers (Euler): how sigmas are interpolated and spaced, and the last one.
    public var interpolationType: String?
    public var useKarrasSigmas: Bool?
    public var timestepType: String?
    public var finalSigmasType: String?
    /// PNDM: start with linear multistep steps rather than the Runge-Kutta warm-up.
    public var skipPRKSteps: Bool?

    public init() {}

    /// The keys this type knows, as diffusers names them; others in a file are kept as read.
    static let keyPaths: [(String, PartialKeyPath<SchedulerConfig>)] = [
        ("_class_name", \.className), ("num_train_timesteps", \.numTrainTimesteps), ("beta_start", \.betaStart),
        ("beta_end", \.betaEnd), ("beta_schedule", \.betaSchedule), ("trained_betas", \.trainedBetas),
        ("prediction_type", \.predictionType), ("clip_sample", \.clipSample), ("clip_sample_range", \.clipSampleRange),
        ("thresholding", \.thresholding), ("timestep_spacing", \.timestepSpacing), ("steps_offset", \.stepsOffset),
        ("rescale_betas_zero_snr", \.rescaleBetasZeroSNR), ("variance_type", \.varianceType),
        ("set_alpha_to_one", \.setAlphaToOne), ("interpolation_type", \.interpolationType),
        ("use_karras_sigmas", \.useKarrasSigmas), ("timestep_type", \.timestepType),
        ("final_sigmas_type", \.finalSigmasType), ("skip_prk_steps", \.skipPRKSteps),
    ]

    public init(json data: Data, path: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data), let d = object as? [String: Any] else {
            throw FileFormatError(path: path, reason: "is not a JSON object")
        }
        let reader = ConfigReader(d)
        do {
            className = try reader.string("_class_name")
            numTrainTimesteps = try reader.int("num_train_timesteps")
            betaStart = try reader.double("beta_start")
            betaEnd = try reader.double("beta_end")
            betaSchedule = try reader.string("beta_schedule")
            trainedBetas = try reader.doubleList("trained_betas")
            predictionType = try reader.string("prediction_type")
            clipSample = try reader.bool("clip_sample")
            clipSampleRange = try reader.double("clip_sample_range")
            thresholding = try reader.bool("thresholding")
            timestepSpacing = try reader.string("timestep_spacing")
            stepsOffset = try reader.int("steps_offset")
            rescaleBetasZeroSNR = try reader.bool("rescale_betas_zero_snr")
            varianceType = try reader.string("variance_type")
            setAlphaToOne = try reader.bool("set_alpha_to_one")
            interpolationType = try reader.string("interpolation_type")
            useKarrasSigmas = try reader.bool("use_karras_sigmas")
            timestepType = try reader.string("timestep_type")
            finalSigmasType = try reader.string("final_sigmas_type")
            skipPRKSteps = try reader.bool("skip_prk_steps")
        } catch let error as ConfigError {
            throw FileFormatError(path: path, reason: error.description)
        }
    }

    /// The config as JSON with the keys that are set, sorted, plus diffusers' version key.
    public func jsonData() throws -> Data {
        var d: [String: Any] = ["_diffusers_version": UNetConfig.diffusersVersion]
        if let className { d["_class_name"] = className }
        if let numTrainTimesteps { d["num_train_timesteps"] = numTrainTimesteps }
        if let betaStart { d["beta_start"] = betaStart }
        if let betaEnd { d["beta_end"] = betaEnd }
        if let betaSchedule { d["beta_schedule"] = betaSchedule }
        d["trained_betas"] = trainedBetas.map { $0 as Any } ?? NSNull()
        if let predictionType { d["prediction_type"] = predictionType }
        if let clipSample { d["clip_sample"] = clipSample }
        if let clipSampleRange { d["clip_sample_range"] = clipSampleRange }
        if let thresholding { d["thresholding"] = thresholding }
        if let timestepSpacing { d["timestep_spacing"] = timestepSpacing }
        if let stepsOffset { d["steps_offset"] = stepsOffset }
        if let rescaleBetasZeroSNR { d["rescale_betas_zero_snr"] = rescaleBetasZeroSNR }
        if let varianceType { d["variance_type"] = varianceType }
        if let setAlphaToOne { d["set_alpha_to_one"] = setAlphaToOne }
        if let interpolationType { d["interpolation_type"] = interpolationType }
        if let useKarrasSigmas { d["use_karras_sigmas"] = useKarrasSigmas }
        if let timestepType { d["timestep_type"] = timestepType }
        if let finalSigmasType { d["final_sigmas_type"] = finalSigmasType }
        if let skipPRKSteps { d["skip_prk_steps"] = skipPRKSteps }
        return try JSONSerialization.data(withJSONObject: d, options: [.prettyPrinted, .sortedKeys])
    }

    /// The training noise schedule this config describes (diffusers' defaults where unset).
    public func noiseSchedule() throws -> NoiseSchedule {
        if trainedBetas != nil { throw ConfigError(field: "trained_betas", reason: "explicit betas are not supported") }
        let name = betaSchedule ?? "linear"
        guard let schedule = NoiseSchedule.BetaSchedule(rawValue: name) else {
            throw ConfigError(field: "beta_schedule", reason: "\(name) is not supported (linear, scaled_linear, squaredcos_cap_v2, sigmoid)")
        }
        let steps = numTrainTimesteps ?? 1000
        guard steps >= 2 else { throw ConfigError(field: "num_train_timesteps", reason: "must be at least 2") }
        return NoiseSchedule(trainTimesteps: steps, betaStart: betaStart ?? 1e-4, betaEnd: betaEnd ?? 0.02,
                             schedule: schedule, rescaleZeroTerminalSNR: rescaleBetasZeroSNR ?? false)
    }

    /// What the model predicts (diffusers' default: epsilon).
    public func prediction() throws -> PredictionType {
        let name = predictionType ?? "epsilon"
        guard let type = PredictionType(rawValue: name) else {
            throw ConfigError(field: "prediction_type", reason: "\(name) is not supported (epsilon, v_prediction, sample)")
        }
        return type
    }
}
