import Foundation
import NN

/// The noise schedule of diffusers' multistep solvers (DPM-Solver++ and UniPC): a run's integer
/// timesteps and its count + 1 noise levels sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t) (the
/// last 0, or sigma_0 with final_sigmas_type sigma_min), optionally Karras et al.'s levels (eq. 5)
/// with their timesteps interpolated back in log sigma and rounded.
///
/// Unlike the Euler schedulers' spacing, linspace and leading spacing space count + 1 points and
/// drop the last (timestep 0), so no step starts at t = 0.
struct MultistepSchedule {
    /// Where DPMSolverMultistepScheduler's set_timesteps and UniPCMultistepScheduler's differ.
    enum Flavor {
        /// lambda_min_clipped; Karras timesteps not rounded (but truncated) for cosine betas; a final
        /// sigma_min of sigma_0 with Karras levels too.
        case dpmSolver
        /// Karras timesteps always rounded; with Karras levels a final sigma_min of the last level.
        case uniPC
    }

    let settings: SchedulerSettings
    /// sigma_t for t = 0 ..< T, in float32 as PyTorch computes it.
    let trainSigmas: [Float]
    private let flavor: Flavor
    private let karras: Bool
    private let finalSigmaIsMin: Bool
    /// The ends of the Karras levels where the config sets them: sigma_min and sigma_max, which
    /// diffusers' `from_config` keeps in the config (and its Karras conversion reads) even for
    /// DPM-Solver, whose constructor lacks them.
    private let sigmaMin: Double?, sigmaMax: Double?
    /// Where the timesteps start from: T less the timesteps clipped by lambda_min_clipped (DPM-Solver).
    private let lastTimestep: Int
    /// Whether Karras timesteps are rounded to the nearest integer rather than truncated.
    private let roundsKarrasTimesteps: Bool

    /// The settings of `config` with linspace spacing where the key is unset (the solvers' default).
    /// Throws a ConfigError naming the key for values not supported: trained_betas, thresholding,
    /// exponential, beta, Lu-lambda and flow sigmas, and a final_sigmas_type other than zero or sigma_min.
    init(config: SchedulerConfig, flavor: Flavor) throws {
        var switches = [("use_exponential_sigmas", config.useExponentialSigmas), ("use_beta_sigmas", config.useBetaSigmas),
                        ("use_flow_sigmas", config.useFlowSigmas)]
        if flavor == .dpmSolver { switches.append(("use_lu_lambdas", config.useLuLambdas)) }
        for (key, value) in switches where value == true {
            throw ConfigError(field: key, reason: "true is not supported (only false)")
        }
        let alphasCumprod: [Float]
        (settings, alphasCumprod, trainSigmas) = try sigmaSettings(config)
        self.flavor = flavor
        karras = config.useKarrasSigmas ?? false
        finalSigmaIsMin = try config.finalSigmaIsSigmaMin()
        (sigmaMin, sigmaMax) = try config.sigmaRange()
        let cosine = config.betaSchedule == NoiseSchedule.BetaSchedule.cosine.rawValue
        roundsKarrasTimesteps = flavor == .uniPC || !cosine

        // lambda_min_clipped: leave out the timesteps whose lambda_t = log(alpha_t / sigma_t) is below
        // it (torch.searchsorted over the lambdas in increasing order)
        let lambdaMin = flavor == .dpmSolver ? config.lambdaMinClipped ?? -.infinity : -.infinity
        guard !lambdaMin.isNaN else { throw ConfigError(field: "lambda_min_clipped", reason: "must be a number") }
        let increasing = alphasCumprod.reversed().map { a -> Float in
            Foundation.log(a.squareRoot()) - Foundation.log((1 - a).squareRoot())
        }
        lastTimestep = alphasCumprod.count - (increasing.firstIndex { Double($0) >= lambdaMin } ?? alphasCumprod.count)
        guard lastTimestep > 0 else {
            throw ConfigError(field: "lambda_min_clipped", reason: "\(lambdaMin) leaves out every timestep")
        }
    }

    /// Before set_timesteps: every training timestep, T - 1 down to 0, and the training sigmas,
    /// as diffusers' constructors set them.
    func trainingRun() -> (timesteps: [Float], sigmas: [Float]) {
        ((0..<trainSigmas.count).reversed().map(Float.init), trainSigmas)
    }

    /// The timesteps of a run of `count` steps and its count + 1 sigmas, the last the final sigma.
    /// Throws for a count outside 1 ... T and for timesteps outside the training range (a
    /// steps_offset too large, or a lambda_min_clipped that clips nearly all).
    func run(count: Int) throws -> (timesteps: [Float], sigmas: [Float]) {
        let trainTimesteps = trainSigmas.count
        try settings.requireStepCount(count)
        func rounded(_ value: Double) -> Int { Int(value.rounded(.toNearestOrEven)) }
        var timesteps: [Int]
        switch settings.spacing {
        case .linspace:
            // np.linspace(0, last - 1, n + 1), rounded, reversed, without its 0
            let end = Double(lastTimestep - 1), step = end / Double(count)
            timesteps = (1...count).reversed().map { i in rounded(i == count ? end : Double(i) * step) }
        case .leading:
            let ratio = lastTimestep / (count + 1)
            timesteps = (1...count).reversed().map { $0 * ratio + settings.stepsOffset }
        case .trailing:
            // np.arange(last, 0, -T / n), rounded, less 1; numpy's extra final -1 (for some counts) dropped
            let values = descendingArange(from: Double(lastTimestep), step: Double(trainTimesteps) / Double(count))
            timesteps = values.prefix(count).map { rounded($0) - 1 }
        }
        // Every timestep, not only the ends: a clipped range can make the spacing run backwards.
        guard !timesteps.isEmpty, timesteps.allSatisfy({ (0..<trainTimesteps).contains($0) }) else {
            throw SchedulerError(reason: "\(count) steps give timesteps \(timesteps.first ?? 0) ... \(timesteps.last ?? 0), "
                                 + "outside the training range 0 ..< \(trainTimesteps)")
        }
        let trainSigma0 = trainSigmas[0]
        guard karras else {
            return (timesteps.map(Float.init), timesteps.map { trainSigmas[$0] } + [finalSigmaIsMin ? trainSigma0 : 0])
        }
        try requireFiniteSigmas(trainSigmas)
        let levels = karrasSigmas(from: sigmaMax ?? Double(trainSigmas[trainTimesteps - 1]),
                                  to: sigmaMin ?? Double(trainSigma0), count: count)
        let logSigmas = trainSigmas.map { Foundation.log($0) }
        timesteps = levels.map { sigma in
            let t = timestep(atSigma: sigma, logSigmas: logSigmas)
            return roundsKarrasTimesteps ? rounded(t) : Int(t)
        }
        let finalSigma = !finalSigmaIsMin ? 0 : flavor == .uniPC ? Float(levels[count - 1]) : trainSigma0
        return (timesteps.map(Float.init), levels.map(Float.init) + [finalSigma])
    }
}

/// The scaling of a noise level sigma in the variance-preserving process x_t = alpha_t x0 + sigma_t eps:
/// alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma alpha_t and the log signal-to-noise ratio
/// lambda_t = log alpha_t - log sigma_t (Lu et al. 2022), in float32 as diffusers' multistep solvers
/// compute them. sigma = 0 gives lambda = +infinity.
struct NoiseLevel {
    let alpha: Float
    let sigma: Float
    let lambda: Float

    init(sigma s: Float) {
        alpha = 1 / (s * s + 1).squareRoot()
        sigma = s * alpha
        lambda = Foundation.log(alpha) - Foundation.log(sigma)
    }
}

/// A run of a multistep solver: its timesteps and sigmas, the step that comes next, and the
/// converted model outputs of the latest steps that the higher orders use.
struct MultistepRun {
    let schedule: MultistepSchedule
    /// The solver order: how many model outputs are kept.
    let order: Int
    private(set) var timesteps: [Float]
    private(set) var sigmas: [Float]
    private var counter = StepCounter()
    private var isSet = false
    /// The converted model outputs of the latest steps, oldest first (diffusers' model_outputs).
    private(set) var outputs: [[Float]] = []
    /// The steps taken so far, at most the order (diffusers' lower_order_nums).
    private(set) var lowerOrderNums = 0

    init(schedule: MultistepSchedule, order: Int) {
        self.schedule = schedule
        self.order = order
        (timesteps, sigmas) = schedule.trainingRun()
    }

    /// Throws for a run whose first timestep repeats (Karras levels of cosine betas, which crowd
    /// near T - 1).
    mutating func set(count: Int) throws {
        let (timesteps, sigmas) = try schedule.run(count: count)
        try StepCounter.requireDistinctStart(timesteps, count: count)
        (self.timesteps, self.sigmas) = (timesteps, sigmas)
        counter.reset()
        outputs = []
        lowerOrderNums = 0
        isSet = true
    }

    /// The index of the step at `timestep`: found from the first timestep seen, then counted.
    mutating func index(at timestep: Float, modelOutput: Tensor, sample: Tensor) -> Int {
        precondition(isSet, "call setTimesteps before step")
        precondition(modelOutput.shape == sample.shape, "model output \(modelOutput.shape) and sample \(sample.shape) differ")
        let index = counter.current(timestep, in: timesteps)
        precondition(index + 1 < sigmas.count, "the run has no step after timestep \(timestep)")
        return index
    }

    /// alpha, sigma and lambda at sigmas[index].
    func level(_ index: Int) -> NoiseLevel { NoiseLevel(sigma: sigmas[index]) }

    /// The model output at sigmas[index] as the predicted x0 (`original`) or noise, elementwise.
    func converted(_ modelOutput: Tensor, sample: Tensor, at index: Int, original: Bool) -> [Float] {
        let prediction = schedule.settings.prediction, level = level(index)
        let a = level.alpha, b = level.sigma
        let m = modelOutput.scalars, x = sample.scalars
        return original
            ? m.indices.map { prediction.original(m[$0], sample: x[$0], a: a, b: b) }
            : m.indices.map { i in
                prediction.noise(m[i], sample: x[i], original: prediction.original(m[i], sample: x[i], a: a, b: b), a: a, b: b)
            }
    }

    /// Keeps `output` as the newest model output, dropping the oldest beyond the order.
    mutating func record(_ output: [Float]) {
        outputs.append(output)
        if outputs.count > order { outputs.removeFirst() }
    }

    /// Moves on to the next step.
    mutating func finishStep() {
        lowerOrderNums = Swift.min(lowerOrderNums + 1, order)
        counter.advance()
    }
}
