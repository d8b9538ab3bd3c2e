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
    /// Ends of the Karras levels; the run's (Euler) or the training schedule's where unset.
    public var sigmaMin: Double?
    public var sigmaMax: Double?
    /// Other sigma spacings diffusers offers; only false is supported.
    public var useExponentialSigmas: Bool?
    public var useBetaSigmas: Bool?
    public var useLuLambdas: Bool?
    public var useFlowSigmas: Bool?
    /// Multistep solvers (DPM-Solver++, UniPC): the order, the variant and the lower orders near the end.
    public var solverOrder: Int?
    public var algorithmType: String?
    public var solverType: String?
    public var lowerOrderFinal: Bool?
    public var eulerAtFinal: Bool?
    /// DPM-Solver: timesteps whose log-SNR lambda is below this are left out (-infinity: none).
    public var lambdaMinClipped: Double?
    /// UniPC: whether the solver works on predicted x0 (else on predicted noise), and the steps
    /// whose corrector is skipped.
    public var predictX0: Bool?
    public var disableCorrector: [Int]?

    public init() {}

    public init(json data: Data, path: String) throws {
        let object = (try? JSONSerialization.jsonObject(with: data))
            ?? (try? JSONSerialization.jsonObject(with: Self.quotingNonFiniteNumbers(data)))
        guard let object, let d = object as? [String: Any] else {
            throw FileFormatError(path: path, reason: "is not a JSON object")
        }
        let reader = ConfigReader(d)
        // diffusers' schedulers have a value, not None, as the default of these: a null there
        // fails in diffusers when sampling, so it is refused here rather than read as "default".
        for key in ["num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type", "clip_sample",
                    "timestep_spacing", "steps_offset"] where reader.isNull(key) {
            throw FileFormatError(path: path, reason: "\"\(key)\" is null; give a value or leave the key out for diffusers' default")
        }
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
            sigmaMin = try reader.double("sigma_min")
            sigmaMax = try reader.double("sigma_max")
            useExponentialSigmas = try reader.bool("use_exponential_sigmas")
            useBetaSigmas = try reader.bool("use_beta_sigmas")
            useLuLambdas = try reader.bool("use_lu_lambdas")
            useFlowSigmas = try reader.bool("use_flow_sigmas")
            solverOrder = try reader.int("solver_order")
            algorithmType = try reader.string("algorithm_type")
            solverType = try reader.string("solver_type")
            lowerOrderFinal = try reader.bool("lower_order_final")
            eulerAtFinal = try reader.bool("euler_at_final")
            lambdaMinClipped = try Self.nonFiniteNumber(d["lambda_min_clipped"]) ?? reader.double("lambda_min_clipped")
            predictX0 = try reader.bool("predict_x0")
            disableCorrector = try reader.intList("disable_corrector")
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
        if let sigmaMin { d["sigma_min"] = sigmaMin }
        if let sigmaMax { d["sigma_max"] = sigmaMax }
        if let useExponentialSigmas { d["use_exponential_sigmas"] = useExponentialSigmas }
        if let useBetaSigmas { d["use_beta_sigmas"] = useBetaSigmas }
        if let useLuLambdas { d["use_lu_lambdas"] = useLuLambdas }
        if let useFlowSigmas { d["use_flow_sigmas"] = useFlowSigmas }
        if let solverOrder { d["solver_order"] = solverOrder }
        if let algorithmType { d["algorithm_type"] = algorithmType }
        if let solverType { d["solver_type"] = solverType }
        if let lowerOrderFinal { d["lower_order_final"] = lowerOrderFinal }
        if let eulerAtFinal { d["euler_at_final"] = eulerAtFinal }
        if let lambdaMinClipped {
            d["lambda_min_clipped"] = lambdaMinClipped.isFinite ? lambdaMinClipped : Self.pythonName(lambdaMinClipped)
        }
        if let predictX0 { d["predict_x0"] = predictX0 }
        if let disableCorrector { d["disable_corrector"] = disableCorrector }
        let data = try JSONSerialization.data(withJSONObject: d, options: [.prettyPrinted, .sortedKeys])
        return lambdaMinClipped?.isFinite == false ? Self.unquotingNonFiniteNumbers(data) : data
    }

    // Python's json module writes infinities and NaN as the bare words -Infinity, Infinity and NaN,
    // which JSON lacks and JSONSerialization rejects; diffusers' DPM-Solver config has
    // "lambda_min_clipped": -Infinity. A file that does not parse is read again with those words
    // quoted where they stand as values, and written back with them bare, as Python reads them.
    private static let nonFiniteNames: [String: Double] = ["-Infinity": -.infinity, "Infinity": .infinity, "NaN": .nan]

    private static func pythonName(_ value: Double) -> String {
        value.isNaN ? "NaN" : value < 0 ? "-Infinity" : "Infinity"
    }

    /// The number a quoted non-finite word stands for; nil for anything else.
    private static func nonFiniteNumber(_ raw: Any?) -> Double? {
        (raw as? String).flatMap { nonFiniteNames[$0] }
    }

    /// `data` with -Infinity, Infinity and NaN outside strings quoted.
    private static func quotingNonFiniteNumbers(_ data: Data) -> Data {
        let text = String(decoding: data, as: UTF8.self)
        var out = "", inString = false, escaped = false
        var rest = Substring(text)
        while let c = rest.first {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if let name = nonFiniteNames.keys.first(where: { rest.hasPrefix($0) }) {
                out += "\"\(name)\""
                rest = rest.dropFirst(name.count)
                continue
            }
            out.append(c)
            rest = rest.dropFirst()
        }
        return Data(out.utf8)
    }

    /// `data` (written by JSONSerialization) with the quoted non-finite words bare again.
    private static func unquotingNonFiniteNumbers(_ data: Data) -> Data {
        var text = String(decoding: data, as: UTF8.self)
        for name in nonFiniteNames.keys { text = text.replacingOccurrences(of: "\"\(name)\"", with: name) }
        return Data(text.utf8)
    }

    /// The training noise schedule this config describes (diffusers' defaults where unset).
    public func noiseSchedule() throws -> NoiseSchedule {
        if trainedBetas != nil { throw ConfigError(field: "trained_betas", reason: "explicit betas are not supported") }
        let name = betaSchedule ?? "linear"
        guard let schedule = NoiseSchedule.BetaSchedule(rawValue: name) else {
            throw ConfigError(field: "beta_schedule", reason: "\(name) is not supported (linear, scaled_linear, squaredcos_cap_v2, sigmoid)")
        }
        let steps = numTrainTimesteps ?? 1000
        guard (2...100_000).contains(steps) else { throw ConfigError(field: "num_train_timesteps", reason: "\(steps) is not within 2...100000") }
        // Betas are variances added per step: outside (0, 1) the schedule's square roots are NaN.
        for (key, value) in [("beta_start", betaStart), ("beta_end", betaEnd)] {
            if let value, !(value > 0 && value < 1) { throw ConfigError(field: key, reason: "\(value) is not within (0, 1)") }
        }
        return NoiseSchedule(trainTimesteps: steps, betaStart: betaStart ?? 1e-4, betaEnd: betaEnd ?? 0.02,
                             schedule: schedule, rescaleZeroTerminalSNR: rescaleBetasZeroSNR ?? false)
    }

    /// sigma_min and sigma_max where set, each positive.
    func sigmaRange() throws -> (min: Double?, max: Double?) {
        for (key, value) in [("sigma_min", sigmaMin), ("sigma_max", sigmaMax)] {
            if let value, !(value > 0 && value.isFinite) { throw ConfigError(field: key, reason: "must be positive") }
        }
        return (sigmaMin, sigmaMax)
    }

    /// Whether the run ends at sigma_0 (final_sigmas_type sigma_min) rather than 0 (zero, the default).
    func finalSigmaIsSigmaMin() throws -> Bool {
        switch finalSigmasType ?? "zero" {
        case "zero": return false
        case "sigma_min": return true
        case let name: throw ConfigError(field: "final_sigmas_type", reason: "\(name) is not supported (zero, sigma_min)")
        }
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
