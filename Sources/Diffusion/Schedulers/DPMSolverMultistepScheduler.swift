import Foundation
import NN

/// Multistep DPM-Solver++ (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of
/// Diffusion Probabilistic Models"; DPM-Solver++(2M) is its algorithm 2), as diffusers'
/// `DPMSolverMultistepScheduler`: the exact solution of the diffusion ODE's linear part, with the
/// model's x0 predictions at the current and previous timesteps extrapolated in lambda (orders 1
/// to 3). Also the multistep form of the original DPM-Solver on noise predictions (algorithm_type
/// dpmsolver; Lu et al. 2022, "DPM-Solver"). One model evaluation a step.
///
/// Code names and the papers' symbols, for the step from s0 = sigmas[i] to t = sigmas[i + 1]
/// (s1, s2 the previous steps' levels):
///
///     alpha_t, sigma_t   alpha_t, sigma_t     1 / sqrt(sigma^2 + 1), sigma alpha_t
///     lambda_t           lambda_t             log(alpha_t / sigma_t), the half log-SNR
///     h                  h_i                  lambda_t - lambda_s0
///     r0, r1             r_i                  (lambda_s0 - lambda_s1) / h, (lambda_s1 - lambda_s2) / h
///     m0, m1, m2         x_theta / eps_theta  converted model outputs at s0, s1, s2
///     D0, D1, D2         D_i                  m0 and the first and second divided differences
///
/// Orders: the first step is first order, the second at most second order; with lower_order_final
/// and fewer than 15 steps the last two steps are first and second order; the last step is first
/// order with euler_at_final or a final sigma of 0.
///
/// Not supported: the SDE variants, thresholding, learned variances, exponential / beta / Lu-lambda
/// / flow sigmas.
public final class DPMSolverMultistepScheduler: Scheduler {
    /// The quantity the solver extrapolates (diffusers' `algorithm_type`).
    public enum Algorithm: String, Sendable {
        /// DPM-Solver++: the data prediction x0 (the default).
        case dpmSolverPlusPlus = "dpmsolver++"
        /// DPM-Solver: the noise prediction eps.
        case dpmSolver = "dpmsolver"
    }

    /// How the second-order step weighs the first divided difference (diffusers' `solver_type`).
    public enum SolverType: String, Sendable {
        /// 1/2 of the first-order coefficient (the default).
        case midpoint
        /// The exact phi_2 weight, as Heun's method.
        case heun
    }

    public let solverOrder: Int
    public let algorithm: Algorithm
    public let solverType: SolverType
    public let lowerOrderFinal: Bool
    public let eulerAtFinal: Bool

    public var timesteps: [Float] { run.timesteps }
    /// The run's count + 1 noise levels, the last the final sigma.
    public var sigmas: [Float] { run.sigmas }
    public var initNoiseSigma: Float { 1 }

    private var run: MultistepRun
    /// Whether the run ends at sigma = 0 (final_sigmas_type zero).
    private let endsAtZero: Bool

    /// A scheduler for `config`; unset keys take DPMSolverMultistepScheduler's defaults (linear
    /// betas, epsilon, solver_order 2, dpmsolver++, midpoint, lower_order_final true, linspace
    /// spacing, final sigma 0). As in diffusers, solver_type bh1, bh2 and logrho (UniPC's) read as
    /// midpoint and algorithm_type deis as dpmsolver++. Throws a ConfigError naming the key for
    /// values not supported: solver orders other than 1 ... 3, the SDE algorithms, dpmsolver with a
    /// final sigma of 0 (which diffusers rejects too), learned variances, thresholding, trained_betas.
    public init(config: SchedulerConfig) throws {
        let order = config.solverOrder ?? 2
        guard (1...3).contains(order) else {
            throw ConfigError(field: "solver_order", reason: "\(order) is not supported (1, 2, 3)")
        }
        let algorithmName = config.algorithmType == "deis" ? Algorithm.dpmSolverPlusPlus.rawValue
            : config.algorithmType ?? Algorithm.dpmSolverPlusPlus.rawValue
        guard let algorithm = Algorithm(rawValue: algorithmName) else {
            throw ConfigError(field: "algorithm_type", reason: "\(algorithmName) is not supported (dpmsolver++, dpmsolver)")
        }
        let typeName = ["bh1", "bh2", "logrho"].contains(config.solverType) ? SolverType.midpoint.rawValue
            : config.solverType ?? SolverType.midpoint.rawValue
        guard let solverType = SolverType(rawValue: typeName) else {
            throw ConfigError(field: "solver_type", reason: "\(typeName) is not supported (midpoint, heun)")
        }
        if let variance = config.varianceType, ["learned", "learned_range"].contains(variance) {
            throw ConfigError(field: "variance_type", reason: "\(variance) is not supported (only fixed variances)")
        }
        let schedule = try MultistepSchedule(config: config, flavor: .dpmSolver)
        endsAtZero = try !config.finalSigmaIsSigmaMin()
        if algorithm == .dpmSolver && endsAtZero {
            throw ConfigError(field: "final_sigmas_type", reason: "zero is not supported with dpmsolver (sigma_min)")
        }
        solverOrder = order
        self.algorithm = algorithm
        self.solverType = solverType
        lowerOrderFinal = config.lowerOrderFinal ?? true
        eulerAtFinal = config.eulerAtFinal ?? false
        run = MultistepRun(schedule: schedule, order: order)
    }

    public func setTimesteps(_ count: Int) throws { try run.set(count: count) }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor { sample }

    /// One step from sigmas[i] to sigmas[i + 1], of the highest order the run allows there.
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        let i = run.index(at: timestep, modelOutput: modelOutput, sample: sample)
        let n = timesteps.count
        // 1. the order: lower near the end of short runs, and for the last step to sigma 0
        let fewSteps = lowerOrderFinal && n < 15
        let firstOrderFinal = i == n - 1 && (eulerAtFinal || fewSteps || endsAtZero)
        let secondOrderFinal = i == n - 2 && fewSteps
        // 2. x0 (DPM-Solver++) or eps (DPM-Solver) from the model output, kept for later steps
        run.record(run.converted(modelOutput, sample: sample, at: i, original: algorithm == .dpmSolverPlusPlus))
        let order: Int
        if solverOrder == 1 || run.lowerOrderNums < 1 || firstOrderFinal {
            order = 1
        } else if solverOrder == 2 || run.lowerOrderNums < 2 || secondOrderFinal {
            order = 2
        } else {
            order = 3
        }
        let previous = update(order: order, at: i, sample: sample.scalars)
        run.finishStep()
        return Tensor(shape: sample.shape, previous)
    }

    /// The multistep update of `order` from sigmas[i] to sigmas[i + 1] with the latest outputs.
    private func update(order: Int, at i: Int, sample x: [Float]) -> [Float] {
        let t = run.level(i + 1), s0 = run.level(i)
        let h = t.lambda - s0.lambda
        let outputs = run.outputs, m0 = outputs[outputs.count - 1]
        let plusPlus = algorithm == .dpmSolverPlusPlus
        // 3. x_t = sampleCoefficient x - c0 D0 + c1 D1 + c2 D2: the first-order (DDIM) step and
        //    the corrections of the divided differences, with phi weights of h (plus-plus: of -h)
        let sampleCoefficient = plusPlus ? t.sigma / s0.sigma : t.alpha / s0.alpha
        let scale = plusPlus ? t.alpha : t.sigma
        let expm1 = plusPlus ? Foundation.exp(-h) - 1 : Foundation.exp(h) - 1
        let c0 = scale * expm1
        // (e^{-h} - 1) / h + 1 and its DPM-Solver counterpart (e^h - 1) / h - 1, each times the
        // scale, enter x_t with opposite signs
        let phi2 = plusPlus ? scale * (expm1 / h + 1) : -(scale * (expm1 / h - 1))
        guard order > 1 else {
            return x.indices.map { j in sampleCoefficient * x[j] - c0 * m0[j] }
        }
        let s1 = run.level(i - 1), m1 = outputs[outputs.count - 2]
        let r0 = (s0.lambda - s1.lambda) / h
        guard order > 2 else {
            // D1 = (m0 - m1) / r0
            let inverse = 1 / r0
            let c1 = solverType == .midpoint ? -(0.5 * c0) : phi2
            return x.indices.map { j in sampleCoefficient * x[j] - c0 * m0[j] + c1 * (inverse * (m0[j] - m1[j])) }
        }
        let s2 = run.level(i - 2), m2 = outputs[outputs.count - 3]
        let r1 = (s1.lambda - s2.lambda) / h
        // D1 = D1_0 + r0 / (r0 + r1) (D1_0 - D1_1), D2 = (D1_0 - D1_1) / (r0 + r1)
        let inverse0 = 1 / r0, inverse1 = 1 / r1, weight = r0 / (r0 + r1), inverseSum = 1 / (r0 + r1)
        let phi3 = plusPlus ? -(scale * ((expm1 + h) / (h * h) - 0.5)) : -(scale * ((expm1 - h) / (h * h) - 0.5))
        return x.indices.map { j in
            let d10 = inverse0 * (m0[j] - m1[j]), d11 = inverse1 * (m1[j] - m2[j])
            let d1 = d10 + weight * (d10 - d11), d2 = inverseSum * (d10 - d11)
            return sampleCoefficient * x[j] - c0 * m0[j] + phi2 * d1 + phi3 * d2
        }
    }
}
