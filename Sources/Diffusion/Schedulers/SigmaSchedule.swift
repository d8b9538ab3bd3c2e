import Foundation
import NN

/// The keys of diffusers' Euler-family configs beyond those all schedulers share. A scheduler reads
/// those its diffusers class has and ignores the others, as `from_config` does.
struct SigmaKeys: OptionSet {
    let rawValue: Int
    /// use_karras_sigmas, with sigma_min and sigma_max for the ends of the levels where set (which
    /// diffusers reads from the config whichever class wrote them); use_exponential_sigmas and
    /// use_beta_sigmas are rejected when true.
    static let karras = SigmaKeys(rawValue: 1)
    /// interpolation_type, timestep_type and final_sigmas_type.
    static let eulerOptions = SigmaKeys(rawValue: 2)
    /// EulerDiscreteScheduler's keys.
    static let euler: SigmaKeys = [.karras, .eulerOptions]
}

/// The settings of a sigma-based scheduler (linspace spacing where the config leaves it unset, the
/// default of diffusers' Euler, Heun, DPM-Solver and UniPC), its alphas_cumprod (the last 2^-24
/// with zero terminal SNR, as diffusers sets it so that sigma stays finite) and the training noise
/// levels sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t), t = 0 ..< T, in float32 as PyTorch
/// computes them.
func sigmaSettings(_ config: SchedulerConfig) throws
    -> (settings: SchedulerSettings, alphasCumprod: [Float], trainSigmas: [Float]) {
    var config = config
    if config.timestepSpacing == nil { config.timestepSpacing = TimestepSpacing.linspace.rawValue }
    let settings = try SchedulerSettings(config: config)
    var alphasCumprod = settings.schedule.alphasCumprod
    if config.rescaleBetasZeroSNR == true { alphasCumprod[alphasCumprod.count - 1] = 0x1p-24 }
    return (settings, alphasCumprod, alphasCumprod.map { ((1 - $0) / $0).squareRoot() })
}

/// The sigma schedule that diffusers' Euler schedulers share: the noise levels
/// sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t) of the training timesteps (Karras et al. 2022,
/// "Elucidating the Design Space of Diffusion-Based Generative Models", x = x0 + sigma eps
/// parametrisation), read off at a run's float timesteps by linear interpolation, then optionally
/// respaced as Karras et al.'s levels (eq. 5) between the first and the last, with their timesteps
/// interpolated back in log sigma; plus a final 0 (or sigma_0 with final_sigmas_type sigma_min).
struct SigmaSchedule {
    let settings: SchedulerSettings
    /// sigma_t for t = 0 ..< T, in float32 as PyTorch computes it.
    let trainSigmas: [Float]
    /// Whether init_noise_sigma is sqrt(sigma_max^2 + 1) (leading spacing) rather than sigma_max.
    private let leading: Bool
    /// Karras levels instead of the interpolated sigmas (use_karras_sigmas).
    private let karras: Bool
    /// The ends of the Karras levels where the config sets them (sigma_min, sigma_max).
    private let sigmaMin: Double?, sigmaMax: Double?
    /// The noise level after the last step: 0, or sigma_0 (final_sigmas_type sigma_min).
    private let finalSigma: Float

    /// The settings of `config` with linspace spacing where the key is unset (Euler's default),
    /// reading the Euler-family keys in `keys` and ignoring the others. Throws a ConfigError naming
    /// the key for values diffusers does not support or that this implementation does not yet:
    /// trained_betas, thresholding, exponential and beta sigmas, log-linear interpolation,
    /// continuous timesteps.
    init(config: SchedulerConfig, keys: SigmaKeys = .euler) throws {
        var unsupported: [(String, String?, String)] = []
        if keys.contains(.karras) {
            unsupported += [("use_exponential_sigmas", config.useExponentialSigmas.map(String.init), "false"),
                            ("use_beta_sigmas", config.useBetaSigmas.map(String.init), "false")]
        }
        if keys.contains(.eulerOptions) {
            unsupported += [("interpolation_type", config.interpolationType, "linear"),
                            ("timestep_type", config.timestepType, "discrete")]
        }
        for (key, value, supported) in unsupported where value != nil && value != supported {
            throw ConfigError(field: key, reason: "\(value!) is not supported yet (only \(supported))")
        }
        (settings, _, trainSigmas) = try sigmaSettings(config)
        leading = settings.spacing == .leading
        karras = keys.contains(.karras) && config.useKarrasSigmas == true
        (sigmaMin, sigmaMax) = keys.contains(.karras) ? try config.sigmaRange() : (nil, nil)
        let finalSigmaIsMin = keys.contains(.eulerOptions) ? try config.finalSigmaIsSigmaMin() : false
        finalSigma = finalSigmaIsMin ? trainSigmas[0] : 0
    }

    /// The timesteps of a run of `count` steps (floats: linspace spacing does not round, Karras
    /// timesteps are interpolated) and the count + 1 sigmas of the run, the last the final sigma.
    func run(count: Int) throws -> (timesteps: [Float], sigmas: [Float]) {
        let trainTimesteps = trainSigmas.count
        var timesteps: [Float]
        linspace: if settings.spacing == .linspace {
            try settings.requireStepCount(count)
            // np.linspace(0, T - 1, n, dtype=float32): i * step in double, the last point T - 1, then
            // float; a single step is [0] (so a 1-step run starts at sigma_0, as in diffusers)
            guard count > 1 else { timesteps = [0]; break linspace }
            let end = Double(trainTimesteps - 1), step = end / Double(count - 1)
            timesteps = (0..<count).reversed().map { i in Float(i == count - 1 ? end : Double(i) * step) }
        } else {
            timesteps = try settings.timesteps(count: count).map(Float.init)
        }
        // np.interp over 0 ..< T in double, clamped at both ends
        var sigmas = timesteps.map { t -> Double in
            let x = Double(t)
            if x <= 0 { return Double(trainSigmas[0]) }
            if x >= Double(trainTimesteps - 1) { return Double(trainSigmas[trainTimesteps - 1]) }
            let j = Int(x.rounded(.down))
            let low = Double(trainSigmas[j]), high = Double(trainSigmas[j + 1])
            return (high - low) * (x - Double(j)) + low
        }
        if karras {
            try requireFiniteSigmas(trainSigmas)
            sigmas = karrasSigmas(from: sigmaMax ?? sigmas[0], to: sigmaMin ?? sigmas[sigmas.count - 1], count: count)
            let logSigmas = trainSigmas.map { Foundation.log($0) }
            timesteps = sigmas.map { Float(timestep(atSigma: $0, logSigmas: logSigmas)) }
            try StepCounter.requireDistinctStart(timesteps, count: count)
        }
        return (timesteps, sigmas.map(Float.init) + [finalSigma])
    }

    /// The run before set_timesteps, as diffusers' constructor sets it whatever the spacing:
    /// every training timestep, T - 1 down to 0, with its sigma, then 0.
    func trainingRun() -> (timesteps: [Float], sigmas: [Float]) {
        ((0..<trainSigmas.count).reversed().map(Float.init), trainSigmas.reversed() + [0])
    }

    /// diffusers' init_noise_sigma for the run's sigmas.
    func initNoiseSigma(_ sigmas: [Float]) -> Float {
        let maxSigma = sigmas.max() ?? 0
        return leading ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
    }
}

/// Where a run stands: the index of the next step, found from the first timestep seen as
/// diffusers' `index_for_timestep` does, then counted up one a step.
struct StepCounter {
    private(set) var index: Int?

    mutating func current(_ timestep: Float, in timesteps: [Float]) -> Int {
        if let index { return index }
        let matches = timesteps.indices.filter { timesteps[$0] == timestep }
        precondition(!matches.isEmpty, "timestep \(timestep) is not one of the run's timesteps")
        // diffusers takes the second match where there are two, not to skip a sigma mid-run
        let found = matches.count > 1 ? matches[1] : matches[0]
        index = found
        return found
    }

    mutating func advance() { index = index.map { $0 + 1 } }

    /// Throws for a run of `count` steps whose first timestep repeats (Karras levels beyond the
    /// training range, which map to the same timestep): diffusers, as `current`, would start such a
    /// run at its second step and fail at its last.
    static func requireDistinctStart(_ timesteps: [Float], count: Int) throws {
        if timesteps.count > 1 && timesteps[0] == timesteps[1] {
            throw SchedulerError(reason: "\(count) steps repeat the first timestep \(timesteps[0]); "
                                 + "choose another step count or schedule")
        }
    }
    mutating func reset() { index = nil }
}

/// A run of a sigma-based scheduler: its timesteps, its count + 1 sigmas (the last 0) and the
/// step that comes next. The Euler schedulers differ only in the update of a step.
struct SigmaRun {
    let schedule: SigmaSchedule
    private(set) var timesteps: [Float]
    private(set) var sigmas: [Float]
    private var counter = StepCounter()

    /// Before set_timesteps the run is all T timesteps, as diffusers' constructor sets it. The
    /// scheduler reads the Euler-family keys in `keys`.
    init(config: SchedulerConfig, keys: SigmaKeys = .euler) throws {
        schedule = try SigmaSchedule(config: config, keys: keys)
        (timesteps, sigmas) = schedule.trainingRun()
    }

    var initNoiseSigma: Float { schedule.initNoiseSigma(sigmas) }

    mutating func set(count: Int) throws {
        (timesteps, sigmas) = try schedule.run(count: count)
        counter.reset()
    }

    /// The model input at `timestep`: the sample over sqrt(sigma^2 + 1).
    mutating func scaledInput(_ sample: Tensor, timestep: Float) -> Tensor {
        scaledForSigma(sample, sigma: sigmas[counter.current(timestep, in: timesteps)])
    }

    /// The noise levels of the step at `timestep` (sigma_i, sigma_{i+1}); moves on to the next step.
    mutating func takeStep(at timestep: Float, modelOutput: Tensor, sample: Tensor) -> (sigma: Float, next: Float) {
        precondition(modelOutput.shape == sample.shape, "model output \(modelOutput.shape) and sample \(sample.shape) differ")
        let index = counter.current(timestep, in: timesteps)
        precondition(index + 1 < sigmas.count, "the run has no step after timestep \(timestep)")
        counter.advance()
        return (sigmas[index], sigmas[index + 1])
    }
}

/// x / sqrt(sigma^2 + 1), elementwise: the model input at noise level sigma.
func scaledForSigma(_ sample: Tensor, sigma: Float) -> Tensor {
    let divisor = (sigma * sigma + 1).squareRoot()
    var out = Tensor.zeros(sample.shape)
    sample.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { o in
            for i in 0..<o.count { o[i] = x[i] / divisor }
        }
    }
    return out
}

/// Above this noise level an image in [-1, 1] is pure noise to the model: Karras et al. (2022)
/// start their samplers at sigma_max = 80.
let pureNoiseSigma: Float = 80

/// A caution for a run of which more than a third of the steps end above `pureNoiseSigma`
/// (`levels`: the noise level each step starts from, then the final one): those steps only move
/// noise, and the image is made in the rest. Karras levels do this on a schedule whose largest
/// sigma is huge (capped cosine betas: 20,291, where 6 of 10 Karras steps end above 80); nil otherwise.
func pureNoiseCaution(levels: [Float]) -> String? {
    guard levels.count > 1 else { return nil }
    let steps = levels.count - 1
    let wasted = levels.dropFirst().filter { $0 > pureNoiseSigma }.count
    guard 3 * wasted > steps else { return nil }
    return String(format: "%d of the %d steps end above sigma %g (the first starts at %.5g), where the sample is still "
                  + "pure noise to the model, so the image is made in the other %d (the same sampler without -karras "
                  + "spends nearly all its steps on it)", wasted, steps, pureNoiseSigma, levels[0], steps - wasted)
}
