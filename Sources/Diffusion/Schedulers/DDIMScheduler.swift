import NN

/// Denoising diffusion implicit models (Song et al. 2021), as diffusers' `DDIMScheduler`: the
/// step from t to t - T / n along the non-Markovian process of eq. 12, deterministic for
/// eta = 0 and as random as DDPM's posterior for eta = 1 (eq. 16).
///
/// Code names and the paper's symbols (the paper's alpha_t is DDPM's alpha_bar_t):
///
///     alpha_prod_t        alpha_t            alphas_cumprod[t]
///     alpha_prod_t_prev   alpha_{t-1}        alphas_cumprod[t - T / n], or the final alpha
///     beta_prod_t         1 - alpha_t
///     x0                  "predicted x_0" in eq. 12
///     eps                 epsilon_theta^(t)(x_t)
///     std_dev_t           sigma_t(eta)       eq. 16
///
/// Unlike diffusers, sigmoid betas are accepted (DDPMScheduler's definition).
public final class DDIMScheduler: Scheduler {
    /// The noise weight at step time: 0 is DDIM, 1 the DDPM posterior's variance (eq. 16).
    public var eta: Float = 0
    /// Recompute eps from the clipped x0 before the direction term (diffusers' `use_clipped_model_output`).
    public var useClippedModelOutput = false

    public private(set) var timesteps: [Float]
    public var initNoiseSigma: Float { 1 }

    private let settings: SchedulerSettings
    private var alphasCumprod: [Float] { settings.schedule.alphasCumprod }
    /// alpha_prod_t_prev after the last step: 1 with set_alpha_to_one, else alphas_cumprod[0].
    private let finalAlphaCumprod: Float
    /// Set by setTimesteps; step needs it.
    private var inferenceSteps: Int?

    /// A scheduler for `config`; unset keys take DDIMScheduler's defaults (linear betas, epsilon,
    /// clip_sample true with range 1, set_alpha_to_one true, leading spacing, steps_offset 0).
    /// Throws a ConfigError naming the key for values it does not support: thresholding, trained_betas.
    public init(config: SchedulerConfig) throws {
        settings = try SchedulerSettings(config: config)
        finalAlphaCumprod = (config.setAlphaToOne ?? true) ? 1 : settings.schedule.alphasCumprod[0]
        timesteps = (0..<settings.schedule.trainTimesteps).reversed().map(Float.init)
    }

    public func setTimesteps(_ count: Int) throws {
        timesteps = try settings.timesteps(count: count).map(Float.init)
        inferenceSteps = count
    }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor { sample }

    /// One DDIM step x_t -> x_{t-1} (Song et al. eqs. 12 and 16); draws noise only when eta > 0.
    /// One pass over the sample, and one more to add the noise.
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        guard let inferenceSteps else { preconditionFailure("call setTimesteps before step") }
        precondition(modelOutput.shape == sample.shape, "model output \(modelOutput.shape) and sample \(sample.shape) differ")
        let t = trainingTimestep(timestep, trainTimesteps: alphasCumprod.count)

        // 1. previous timestep: t - T / n (integer division), whatever the spacing
        let prevT = t - alphasCumprod.count / inferenceSteps

        // 2. alphas and betas
        let alphaProdT = alphasCumprod[t]
        let alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod
        let betaProdT = 1 - alphaProdT
        let betaProdTPrev = 1 - alphaProdTPrev

        // 3. sigma_t(eta) (eq. 16) and the coefficients of x0 and eps in eq. 12
        let variance = (betaProdTPrev / betaProdT) * (1 - alphaProdT / alphaProdTPrev)
        let stdDevT = eta * variance.squareRoot()
        let x0Coefficient = alphaProdTPrev.squareRoot()
        let directionCoefficient = (1 - alphaProdTPrev - stdDevT * stdDevT).squareRoot()

        let a = alphaProdT.squareRoot(), b = betaProdT.squareRoot()
        let prediction = settings.prediction, clipRange = settings.clipRange
        let useClippedModelOutput = useClippedModelOutput
        var previous = Tensor.zeros(sample.shape)
        modelOutput.withUnsafeBufferPointer { m in
            sample.withUnsafeBufferPointer { x in
                previous.withUnsafeMutableBufferPointer { out in
                    for i in 0..<out.count {
                        // 4. predicted x0 ("predicted x_0" of eq. 12) and eps from the model output
                        var x0 = prediction.original(m[i], sample: x[i], a: a, b: b)
                        var eps = prediction.noise(m[i], sample: x[i], original: x0, a: a, b: b)
                        // 5. clip x0; eps follows the clipped x0 only when asked
                        if let r = clipRange { x0 = Swift.min(Swift.max(x0, -r), r) }
                        if useClippedModelOutput { eps = (x[i] - a * x0) / b }
                        // 6. sqrt(alpha_{t-1}) x0 + sqrt(1 - alpha_{t-1} - sigma_t^2) eps (eq. 12)
                        out[i] = x0Coefficient * x0 + directionCoefficient * eps
                    }
                }
            }
        }

        // 7. plus sigma_t z, the random noise of eq. 12, for eta > 0
        guard eta > 0 else { return previous }
        let z = noise()
        precondition(z.shape == sample.shape, "noise \(z.shape) and sample \(sample.shape) differ")
        return Tensor.combination(1, previous, stdDevT, z)
    }
}
