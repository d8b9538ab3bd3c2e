import Foundation
import NN

/// UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
/// Diffusion Models"), as diffusers' `UniPCMultistepScheduler`: each step first corrects the
/// sample the previous step predicted with the model output just evaluated there (UniC), then
/// predicts the next sample from the latest outputs (UniP), so the order rises by one at no extra
/// model evaluation. The corrector is skipped after the steps in
/// disable_corrector; the last step's prediction is not corrected.
///
/// Code names and the paper's symbols, for a step from s0 to t (the predictor: sigmas[i] to
/// sigmas[i + 1]; the corrector: sigmas[i - 1] to sigmas[i]), with s_k the k-th level before s0:
///
///     alpha_t, sigma_t, lambda_t   alpha_t, sigma_t, lambda_t   as DPM-Solver's
///     h                            h_i                 lambda_t - lambda_s0
///     hh                           -h (x0) or h (eps)  the signed step of the exponential integrator
///     rks                          r_k                 (lambda_sk - lambda_s0) / h, then 1
///     D1s                          D_k / r_k           (m_k - m0) / r_k
///     hPhi1                        h phi_1(h)          e^hh - 1
///     bh                           B(h)                hh (bh1) or e^hh - 1 (bh2)
///     R, b                         R_p(h), g_p(h)      the order conditions R rho = b
///     rhos                         a (UniP's, UniC's)  the weights of the differences
///
/// Not supported: thresholding, solver_p, exponential / beta / flow sigmas. Unlike diffusers, the
/// last step to sigma 0 with bh1 is the first-order update (x0) where diffusers multiplies an
/// infinite B(h) by a zero residual (NaN).
public final class UniPCMultistepScheduler: Scheduler {
    /// The B(h) of the order conditions (diffusers' `solver_type`).
    public enum SolverType: String, Sendable {
        /// B(h) = h: suited to unconditional sampling with few steps.
        case bh1
        /// B(h) = e^h - 1 (the default).
        case bh2
    }

    public let solverOrder: Int
    public let solverType: SolverType
    /// Whether the solver works on predicted x0 (the default) rather than predicted noise.
    public let predictX0: Bool
    public let lowerOrderFinal: Bool
    /// The step indices after which the corrector is skipped.
    public let disableCorrector: Set<Int>

    public var timesteps: [Float] { run.timesteps }
    /// The run's count + 1 noise levels, the last the final sigma.
    public var sigmas: [Float] { run.sigmas }
    public var initNoiseSigma: Float { 1 }

    private var run: MultistepRun
    /// The sample the last step started from, and that step's order: the corrector's inputs.
    private var lastSample: [Float]?
    private var lastOrder = 1

    /// A scheduler for `config`; unset keys take UniPCMultistepScheduler's defaults (linear betas,
    /// epsilon, solver_order 2, bh2, predict_x0 true, lower_order_final true, no corrector
    /// disabled, linspace spacing, final sigma 0). As in diffusers, solver_type midpoint, heun and
    /// logrho (DPM-Solver's) read as bh2. Throws a ConfigError naming the key for values not
    /// supported: solver_order below 1; with a final sigma of 0, lower_order_final false and
    /// solver_order above 1 (diffusers' last step divides by an infinite h) or predict_x0 false
    /// (it multiplies 0 by infinity); thresholding, trained_betas.
    public init(config: SchedulerConfig) throws {
        let order = config.solverOrder ?? 2
        guard order >= 1 else { throw ConfigError(field: "solver_order", reason: "must be at least 1") }
        let typeName = ["midpoint", "heun", "logrho"].contains(config.solverType) ? SolverType.bh2.rawValue
            : config.solverType ?? SolverType.bh2.rawValue
        guard let solverType = SolverType(rawValue: typeName) else {
            throw ConfigError(field: "solver_type", reason: "\(typeName) is not supported (bh1, bh2)")
        }
        let schedule = try MultistepSchedule(config: config, flavor: .uniPC)
        lowerOrderFinal = config.lowerOrderFinal ?? true
        let endsAtSigmaMin = try config.finalSigmaIsSigmaMin()
        if !lowerOrderFinal && order > 1 && !endsAtSigmaMin {
            throw ConfigError(field: "lower_order_final", reason: "false is not supported with final_sigmas_type zero "
                              + "and solver_order above 1 (the last step would not be finite)")
        }
        predictX0 = config.predictX0 ?? true
        if !predictX0 && !endsAtSigmaMin {
            throw ConfigError(field: "predict_x0", reason: "false is not supported with final_sigmas_type zero "
                              + "(the last step would not be finite)")
        }
        solverOrder = order
        self.solverType = solverType
        disableCorrector = Set(config.disableCorrector ?? [])
        run = MultistepRun(schedule: schedule, order: order)
    }

    public func setTimesteps(_ count: Int) throws {
        try run.set(count: count)
        lastSample = nil
    }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor { sample }

    /// Corrects the sample with this output (UniC), then predicts the next one (UniP).
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        let i = run.index(at: timestep, modelOutput: modelOutput, sample: sample)
        // 1. x0 (or eps) at sigmas[i], from the sample as the model saw it
        let converted = run.converted(modelOutput, sample: sample, at: i, original: predictX0)
        // 2. UniC: redo the last step from its start with this output as well
        var x = sample.scalars
        if i > 0, !disableCorrector.contains(i - 1), let lastSample {
            x = corrected(lastSample, from: i - 1, output: converted, order: lastOrder)
        }
        run.record(converted)
        // 3. the order: up by one a step from 1, down to 1 at the end with lower_order_final
        let n = timesteps.count
        let order = Swift.min(lowerOrderFinal ? Swift.min(solverOrder, n - i) : solverOrder, run.lowerOrderNums + 1)
        lastSample = x
        lastOrder = order
        // 4. UniP from sigmas[i] to sigmas[i + 1]
        let previous = predicted(x, from: i, order: order)
        run.finishStep()
        return Tensor(shape: sample.shape, previous)
    }

    /// The coefficients of a step from sigmas[s] to sigmas[s + 1] using the outputs at s, s - 1,
    /// ..., s - order + 1 (the newest `order` recorded, the newest at s).
    private struct Coefficients {
        /// x_t_ = sampleCoefficient x - m0Coefficient m0: the first-order step.
        let sampleCoefficient: Float
        let m0Coefficient: Float
        /// x_t = x_t_ - residualCoefficient (sum of rho_k D1s_k).
        let residualCoefficient: Float
        /// r_k for k = 1 ..< order.
        let rks: [Float]
        /// R (order x order: row p the powers r_k^p, with r = 1 last) and b of the order conditions.
        let r: [[Float]]
        let b: [Float]
    }

    private func coefficients(from s: Int, order: Int) -> Coefficients {
        let t = run.level(s + 1), s0 = run.level(s)
        let h = t.lambda - s0.lambda
        let rks = (1..<order).map { k in (run.level(s - k).lambda - s0.lambda) / h }
        let hh = predictX0 ? -h : h
        let hPhi1 = Foundation.expm1(hh)
        let bh = solverType == .bh1 ? hh : Foundation.expm1(hh)
        // b_p = h phi_{p+1}(hh) p! / B(h), with h phi_{k+1} = h phi_k / hh - 1 / k!
        var hPhiK = hPhi1 / hh - 1
        var factorial = 1
        var b: [Float] = []
        let withOne = rks + [1]
        var r: [[Float]] = []
        for p in 1...order {
            // torch.pow: x^0 = 1, x^1 = x, x^2 = x x, others by pow
            r.append(withOne.map { p == 1 ? 1 : p == 2 ? $0 : p == 3 ? $0 * $0 : powf($0, Float(p - 1)) })
            b.append(hPhiK * Float(factorial) / bh)
            factorial *= p + 1
            hPhiK = hPhiK / hh - Float(1 / Double(factorial))
        }
        let scale = predictX0 ? t.alpha : t.sigma
        return Coefficients(sampleCoefficient: predictX0 ? t.sigma / s0.sigma : t.alpha / s0.alpha,
                            m0Coefficient: scale * hPhi1, residualCoefficient: scale * bh, rks: rks, r: r, b: b)
    }

    /// The divided differences (m_k - m0) / r_k, with m0 the newest output and m_k the k-th before it.
    private func differences(_ rks: [Float]) -> [[Float]] {
        let outputs = run.outputs, newest = outputs.count - 1, m0 = outputs[newest]
        return rks.indices.map { k in
            let mk = outputs[newest - 1 - k], rk = rks[k]
            return m0.indices.map { (mk[$0] - m0[$0]) / rk }
        }
    }

    /// UniP from sigmas[s] to sigmas[s + 1], of `order`.
    private func predicted(_ x: [Float], from s: Int, order: Int) -> [Float] {
        let c = coefficients(from: s, order: order)
        let m0 = run.outputs[run.outputs.count - 1]
        let firstOrder = x.indices.map { c.sampleCoefficient * x[$0] - c.m0Coefficient * m0[$0] }
        guard order > 1 else { return firstOrder }
        let rhos = order == 2 ? [0.5] : solveLinearSystem(Array(c.r.dropLast().map { $0.dropLast() }), Array(c.b.dropLast()))
        let d1s = differences(c.rks)
        return firstOrder.indices.map { j in
            firstOrder[j] - c.residualCoefficient * weightedSum(rhos, d1s, j)
        }
    }

    /// UniC: the step from sigmas[s] to sigmas[s + 1] again, from `last` (the sample
    /// at s), with `output` (the converted output at s + 1) added to the outputs at s, s - 1, ...
    private func corrected(_ last: [Float], from s: Int, output modelT: [Float], order: Int) -> [Float] {
        let c = coefficients(from: s, order: order)
        let m0 = run.outputs[run.outputs.count - 1]
        let rhos = order == 1 ? [0.5] : solveLinearSystem(c.r, c.b)
        let d1s = differences(c.rks)
        let rhoT = rhos[rhos.count - 1], corrections = Array(rhos.dropLast())
        return last.indices.map { j in
            let firstOrder = c.sampleCoefficient * last[j] - c.m0Coefficient * m0[j]
            return firstOrder - c.residualCoefficient * (weightedSum(corrections, d1s, j) + rhoT * (modelT[j] - m0[j]))
        }
    }

    /// sum over k of rhos[k] d[k][j] (0 for none).
    private func weightedSum(_ rhos: [Float], _ d: [[Float]], _ j: Int) -> Float {
        var sum: Float = 0
        for k in d.indices { sum += rhos[k] * d[k][j] }
        return sum
    }
}

/// The solution of a x = b for a small square system, by Gaussian elimination with partial
/// pivoting in float32 (LAPACK's gesv, which torch.linalg.solve calls).
func solveLinearSystem(_ a: [[Float]], _ b: [Float]) -> [Float] {
    var a = a, b = b
    let n = b.count
    for col in 0..<n {
        let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) }!
        a.swapAt(col, pivot)
        b.swapAt(col, pivot)
        for row in (col + 1)..<n {
            let factor = a[row][col] / a[col][col]
            for k in col..<n { a[row][k] -= factor * a[col][k] }
            b[row] -= factor * b[col]
        }
    }
    var x = [Float](repeating: 0, count: n)
    for row in (0..<n).reversed() {
        var sum = b[row]
        for k in (row + 1)..<n { sum -= a[row][k] * x[k] }
        x[row] = sum / a[row][row]
    }
    return x
}
