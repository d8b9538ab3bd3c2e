import Foundation
import NN

/// Ancestral sampling of Ho et al. 2020 ("Denoising Diffusion Probabilistic Models"), as
/// diffusers' `DDPMScheduler`: each step draws x_{t-1} from the posterior q(x_{t-1} | x_t, x0)
/// with x0 predicted by the model. With fewer steps than training timesteps, the step goes
/// from t to the previous timestep of the run, t', with 1 - alpha_prod_t / alpha_prod_t' in
/// place of beta_t.
///
/// Code names and the paper's symbols:
///
///     alpha_prod_t        alpha_bar_t        alphas_cumprod[t]
///     alpha_prod_t_prev   alpha_bar_{t-1}    alphas_cumprod[t'] (1 past the last step)
///     beta_prod_t         1 - alpha_bar_t
///     current_alpha_t     alpha_t            alpha_prod_t / alpha_prod_t_prev
///     current_beta_t      beta_t             1 - current_alpha_t
///     x0                  x_0 (predicted)
///     variance            beta_tilde_t (eq. 7, fixed_small) or beta_t (fixed_large)
public final class DDPMScheduler: Scheduler {
    /// The variance of the noise each step adds (diffusers' `variance_type`).
    public enum VarianceType: String, Sendable, CaseIterable {
        /// The posterior variance beta_tilde_t (eq. 7): the lower bound of Ho et al. sec. 3.2.
        case fixedSmall = "fixed_small"
        /// The same variance, its standard deviation taken as exp(log(variance) / 2).
        case fixedSmallLog = "fixed_small_log"
        /// beta_t: the upper bound of Ho et al. sec. 3.2.
        case fixedLarge = "fixed_large"
    }

    public let varianceType: VarianceType
    public private(set) var timesteps: [Float]
    public var initNoiseSigma: Float { 1 }

    private let settings: SchedulerSettings
    private var alphasCumprod: [Float] { settings.schedule.alphasCumprod }
    /// Set by setTimesteps; before it, steps go from t to t - 1 over all training timesteps.
    private var inferenceSteps: Int?

    /// A scheduler for `config`; unset keys take DDPMScheduler's defaults (linear betas,
    /// epsilon, fixed_small, clip_sample true with range 1, leading spacing, steps_offset 0).
    /// Throws a ConfigError naming the key for values it does not support: thresholding,
    /// trained_betas, learned variances and fixed_large_log (which diffusers turns into NaN).
    public init(config: SchedulerConfig) throws {
        settings = try SchedulerSettings(config: config)
        let name = config.varianceType ?? VarianceType.fixedSmall.rawValue
        guard let varianceType = VarianceType(rawValue: name) else {
            throw ConfigError(field: "variance_type",
                              reason: "\(name) is not supported (fixed_small, fixed_small_log, fixed_large)")
        }
        self.varianceType = varianceType
        timesteps = (0..<settings.schedule.trainTimesteps).reversed().map(Float.init)
    }

    public func setTimesteps(_ count: Int) throws {
        timesteps = try settings.timesteps(count: count).map(Float.init)
        inferenceSteps = count
    }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor { sample }

    /// The timestep the step from `timestep` lands on: the next one of the run, -1 after the last
    /// (diffusers' `previous_timestep`).
    func previousTimestep(_ timestep: Int) -> Int {
        guard inferenceSteps != nil else { return timestep - 1 }
        guard let index = timesteps.firstIndex(of: Float(timestep)) else {
            preconditionFailure("timestep \(timestep) is not one of this run's timesteps")
        }
        return index + 1 < timesteps.count ? Int(timesteps[index + 1]) : -1
    }

    /// alpha_prod_t and alpha_prod_t_prev of the step from `timestep` (1 past the end of the run).
    private func alphaProducts(_ timestep: Int) -> (t: Float, prev: Float) {
        precondition(timestep >= 0 && timestep < alphasCumprod.count, "timestep \(timestep) is out of range")
        let prev = previousTimestep(timestep)
        return (alphasCumprod[timestep], prev >= 0 ? alphasCumprod[prev] : 1)
    }

    /// The variance of the noise the step from `timestep` adds: beta_tilde_t (eq. 7, at least
    /// 1e-20) for fixed_small and fixed_small_log, beta_t for fixed_large.
    public func variance(at timestep: Int) -> Float {
        let alpha = alphaProducts(timestep)
        let currentBeta = 1 - alpha.t / alpha.prev
        if varianceType == .fixedLarge { return currentBeta }
        return Swift.max((1 - alpha.prev) / (1 - alpha.t) * currentBeta, 1e-20)
    }

    /// The standard deviation of the noise the step from `timestep` adds, as diffusers computes it.
    func noiseScale(at timestep: Int) -> Float {
        let variance = variance(at: timestep)
        return varianceType == .fixedSmallLog ? Foundation.exp(0.5 * Foundation.log(variance)) : variance.squareRoot()
    }

    /// One ancestral step x_t -> x_{t-1} (Ho et al. eqs. 6, 7 and 15, algorithm 2); draws noise
    /// unless t = 0. One pass over the sample, and one more to add the noise.
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        precondition(modelOutput.shape == sample.shape, "model output \(modelOutput.shape) and sample \(sample.shape) differ")
        let t = trainingTimestep(timestep, trainTimesteps: settings.schedule.trainTimesteps)

        // 1. previous timestep t' and 2. alphas and betas
        let alpha = alphaProducts(t)
        let betaProdT = 1 - alpha.t
        let betaProdTPrev = 1 - alpha.prev
        let currentAlphaT = alpha.t / alpha.prev
        let currentBetaT = 1 - currentAlphaT

        // 3. coefficients of x0 and x_t in the posterior mean mu_tilde_t (eq. 7)
        let x0Coefficient = (alpha.prev.squareRoot() * currentBetaT) / betaProdT
        let sampleCoefficient = currentAlphaT.squareRoot() * betaProdTPrev / betaProdT

        let a = alpha.t.squareRoot(), b = betaProdT.squareRoot()
        let prediction = settings.prediction, clipRange = settings.clipRange
        var previous = Tensor.zeros(sample.shape)
        modelOutput.withUnsafeBufferPointer { m in
            sample.withUnsafeBufferPointer { x in
                previous.withUnsafeMutableBufferPointer { out in
                    for i in 0..<out.count {
                        // 4. predicted x0 (eq. 15 for epsilon), 5. clipped to the range
                        var x0 = prediction.original(m[i], sample: x[i], a: a, b: b)
                        if let r = clipRange { x0 = Swift.min(Swift.max(x0, -r), r) }
                        // 6. mu_tilde_t(x_t, x0) (eq. 7)
                        out[i] = x0Coefficient * x0 + sampleCoefficient * x[i]
                    }
                }
            }
        }

        // 7. x_{t-1} = mu_tilde_t + sigma_t z (eq. 6), without noise at t = 0
        guard t > 0 else { return previous }
        let z = noise()
        precondition(z.shape == sample.shape, "noise \(z.shape) and sample \(sample.shape) differ")
        return Tensor.combination(1, previous, noiseScale(at: t), z)
    }
}
