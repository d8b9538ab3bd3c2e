import NN

/// Pseudo numerical methods for diffusion models (Liu et al. 2022, "Pseudo Numerical Methods for
/// Diffusion Models on Manifolds"), as diffusers' `PNDMScheduler`: the transfer part phi of eq. 9
/// (one DDIM step from t to t - delta with a given noise estimate), fed by the gradient part of
/// F-PNDM (algorithm 2): three pseudo Runge-Kutta steps (eq. 13, four model evaluations each) to
/// start, then pseudo linear multistep steps (eq. 12, one evaluation each) over the last four
/// noise estimates. With skip_prk_steps the warm-up is crowsonkb's PLMS start instead: an Euler
/// step, its Heun correction, then multistep steps of order 2, 3 and 4.
///
/// The run's timesteps repeat where a step evaluates the model more than once. For n steps of
/// stride delta = T / n and half stride h = delta / 2 (integer divisions), timesteps t_{n-1} > ... > t_0:
///
///     PRK warm-up     t_{n-1}, t_{n-2} + h, t_{n-2} + h, t_{n-2}, then the same from t_{n-2} and
///                     from t_{n-3} (12 in all, the last t_{n-4}), then t_{n-4}, ..., t_0 for the
///                     multistep steps (n + 9 evaluations, n >= 4)
///     skip_prk_steps  t_{n-1}, t_{n-2}, t_{n-2}, t_{n-3}, ..., t_0 (n + 1 evaluations)
///
/// Code names and the paper's symbols (the paper's alpha_t is DDPM's alpha_bar_t):
///
///     alpha_prod_t        alpha_t                alphas_cumprod[t]
///     alpha_prod_t_prev   alpha_{t-delta}        alphas_cumprod[t - delta], or the final alpha
///     eps                 e_t                    the noise estimate phi is given
///     ets                 e_t, e_{t-delta}, ...  the noise estimates of the steps so far, oldest first
///     modelOutputSum      (e_1 + 2 e_2 + 2 e_3) / 6 of eq. 13, summed over a PRK step
///     stepStart           x_t                    the sample a PRK step (or the Heun correction) starts from
///
/// Prediction types epsilon and v_prediction (v is turned into eps by phi, with the step's start
/// sample). The stride is delta whatever the spacing, as in diffusers. Unlike diffusers, sigmoid
/// betas are accepted, and trailing spacing has exactly n steps where numpy's arange yields n + 1
/// (diffusers then adds a step at timestep -1).
public final class PNDMScheduler: Scheduler {
    /// Empty until setTimesteps, as in diffusers.
    public private(set) var timesteps: [Float] = []
    public var initNoiseSigma: Float { 1 }

    private let settings: SchedulerSettings
    private var alphasCumprod: [Float] { settings.schedule.alphasCumprod }
    /// alpha_prod_t_prev after the last step: 1 with set_alpha_to_one, else alphas_cumprod[0].
    private let finalAlphaCumprod: Float
    private let skipPRKSteps: Bool
    /// The number of PRK evaluations that start the run: 12, or 0 with skip_prk_steps.
    private var prkCount = 0
    /// Set by setTimesteps; steps need it.
    private var inferenceSteps: Int?

    /// The model evaluations done so far in the run (diffusers' `counter`).
    private var counter = 0
    private var ets: [Tensor] = []
    private var modelOutputSum: Tensor?
    private var stepStart: Tensor?

    /// A scheduler for `config`; unset keys take PNDMScheduler's defaults (linear betas, epsilon,
    /// skip_prk_steps false, set_alpha_to_one false, leading spacing, steps_offset 0). Throws a
    /// ConfigError naming the key for values it does not support: prediction type sample,
    /// trained_betas. Keys PNDMScheduler does not have are ignored, as diffusers' from_config ignores
    /// them: clip_sample, thresholding, rescale_betas_zero_snr.
    public init(config: SchedulerConfig) throws {
        var config = config
        config.clipSample = false
        config.thresholding = nil
        config.rescaleBetasZeroSNR = nil
        settings = try SchedulerSettings(config: config)
        if settings.prediction == .sample {
            throw ConfigError(field: "prediction_type", reason: "sample is not supported by PNDM (epsilon, v_prediction)")
        }
        finalAlphaCumprod = (config.setAlphaToOne ?? false) ? 1 : settings.schedule.alphasCumprod[0]
        skipPRKSteps = config.skipPRKSteps ?? false
    }

    /// Throws for a count outside 1 ... T, and below 4 unless skip_prk_steps (the PRK warm-up
    /// takes three steps and the fourth is the first multistep one).
    public func setTimesteps(_ count: Int) throws {
        let steps = try settings.timesteps(count: count)
        if skipPRKSteps {
            // the second timestep twice: once for the Heun correction of the first step, once for the second step
            timesteps = (steps.prefix(2) + steps.dropFirst()).map(Float.init)
            prkCount = 0
        } else {
            guard count >= 4 else {
                throw SchedulerError(reason: "cannot sample in \(count) steps with PNDM's Runge-Kutta warm-up: "
                                     + "it needs at least 4 (or skip_prk_steps true)")
            }
            let half = settings.schedule.trainTimesteps / count / 2
            let prk = (0..<3).flatMap { j -> [Int] in
                let next = steps[j + 1]
                return [steps[j], next + half, next + half, next]
            }
            timesteps = (prk + steps.dropFirst(3)).map(Float.init)
            prkCount = prk.count
        }
        inferenceSteps = count
        counter = 0
        ets = []
        modelOutputSum = nil
        stepStart = nil
    }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor { sample }

    /// One model evaluation's step: a PRK stage during the warm-up, else a PLMS step; never draws noise.
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        guard let inferenceSteps else { preconditionFailure("call setTimesteps before step") }
        precondition(modelOutput.shape == sample.shape, "model output \(modelOutput.shape) and sample \(sample.shape) differ")
        let t = trainingTimestep(timestep, trainTimesteps: alphasCumprod.count)
        let stride = alphasCumprod.count / inferenceSteps
        defer { counter += 1 }
        return counter < prkCount
            ? rungeKuttaStage(modelOutput, timestep: t, sample: sample, stride: stride)
            : linearMultistep(modelOutput, timestep: t, sample: sample, stride: stride)
    }

    /// Stage counter % 4 of a pseudo Runge-Kutta step from x_t (eq. 13): stages 0-2 go from x_t to
    /// the midpoint (or, stage 2, to t - delta) with e_1, e_2, e_3; stage 3 to t - delta with
    /// (e_1 + 2 e_2 + 2 e_3 + e_4) / 6.
    private func rungeKuttaStage(_ modelOutput: Tensor, timestep t: Int, sample: Tensor, stride: Int) -> Tensor {
        let stage = counter % 4
        // the evaluations at the midpoint (odd stages) step to where they are; the others half a stride on
        let target = t - (stage % 2 == 1 ? 0 : stride / 2)
        let start = Int(timesteps[counter - stage])
        var eps = modelOutput
        switch stage {
        case 0:
            modelOutputSum = modelOutput * (1 / 6)
            ets.append(modelOutput)
            stepStart = sample
        case 1, 2:
            modelOutputSum = Tensor.combination(1, modelOutputSum!, 1 / 3, modelOutput)
        default:
            eps = Tensor.combination(1, modelOutputSum!, 1 / 6, modelOutput)
            modelOutputSum = nil
        }
        return transfer(stepStart!, from: start, to: target, modelOutput: eps)
    }

    /// A pseudo linear multistep step from t to t - delta (eq. 12) with the newest four noise
    /// estimates; with skip_prk_steps the first steps use fewer: the estimate itself, then (at the
    /// second evaluation) the Heun correction of the first step, redone from its start with the
    /// mean of both estimates, then orders 2 and 3.
    private func linearMultistep(_ modelOutput: Tensor, timestep t: Int, sample: Tensor, stride: Int) -> Tensor {
        var from = t, to = t - stride, start = sample
        if counter == 1 {
            // the correction: the step from t + delta to t again; the estimate is not kept
            from = t + stride
            to = t
            precondition(from < alphasCumprod.count, "timestep \(from) is out of range")
        } else {
            ets = ets.suffix(3) + [modelOutput]
        }
        let eps: Tensor
        switch (ets.count, counter) {
        case (1, 0):
            eps = modelOutput
            stepStart = sample
        case (1, _):
            eps = (modelOutput + ets[0]) * 0.5
            start = stepStart!
            stepStart = nil
        default:
            eps = Self.adamsBashforth(ets)
        }
        return transfer(start, from: from, to: to, modelOutput: eps)
    }

    /// The Adams-Bashforth combination of the newest 2, 3 or 4 noise estimates (`ets`, oldest
    /// first): (3 e_0 - e_1) / 2, (23 e_0 - 16 e_1 + 5 e_2) / 12, (55 e_0 - 59 e_1 + 37 e_2 - 9 e_3) / 24
    /// with e_0 the newest, summed in that order (diffusers multiplies by 1/24 where this divides
    /// by 24: the last bit may differ).
    private static func adamsBashforth(_ ets: [Tensor]) -> Tensor {
        let (weights, divisor): ([Float], Float) = switch ets.count {
        case 2: ([3, -1], 2)
        case 3: ([23, -16, 5], 12)
        default: ([55, -59, 37, -9], 24)
        }
        let newestFirst = Array(ets.reversed().prefix(weights.count))
        var out = Tensor.zeros(ets[0].shape)
        out.withUnsafeMutableBufferPointer { out in
            for (k, e) in newestFirst.enumerated() {
                let weight = weights[k]
                e.withUnsafeBufferPointer { e in
                    for i in 0..<out.count { out[i] += weight * e[i] }
                }
            }
            for i in 0..<out.count { out[i] /= divisor }
        }
        return out
    }

    /// phi of eq. 9: x_{t-delta} from x_t and the noise estimate, the DDIM step written as
    /// sqrt(alpha_{t-delta} / alpha_t) x_t - (alpha_{t-delta} - alpha_t) e_t
    ///     / (alpha_t sqrt(1 - alpha_{t-delta}) + sqrt((1 - alpha_t) alpha_t alpha_{t-delta})).
    private func transfer(_ sample: Tensor, from t: Int, to prevT: Int, modelOutput: Tensor) -> Tensor {
        let alphaProdT = alphasCumprod[t]
        let alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod
        let betaProdT = 1 - alphaProdT
        let betaProdTPrev = 1 - alphaProdTPrev
        let sampleCoefficient = (alphaProdTPrev / alphaProdT).squareRoot()
        let denominator = alphaProdT * betaProdTPrev.squareRoot() + (alphaProdT * betaProdT * alphaProdTPrev).squareRoot()
        let difference = alphaProdTPrev - alphaProdT
        // v prediction: eps = sqrt(alpha_t) v + sqrt(1 - alpha_t) x_t
        let a = alphaProdT.squareRoot(), b = betaProdT.squareRoot()
        let isV = settings.prediction == .vPrediction
        var previous = Tensor.zeros(sample.shape)
        modelOutput.withUnsafeBufferPointer { m in
            sample.withUnsafeBufferPointer { x in
                previous.withUnsafeMutableBufferPointer { out in
                    for i in 0..<out.count {
                        let eps = isV ? a * m[i] + b * x[i] : m[i]
                        out[i] = sampleCoefficient * x[i] - difference * eps / denominator
                    }
                }
            }
        }
        return previous
    }
}
