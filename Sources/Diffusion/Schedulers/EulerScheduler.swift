import NN

/// Euler's method on the probability-flow ODE dx/dsigma = (x - x0(x, sigma)) / sigma (Karras et al.
/// 2022, algorithm 2 with the "churn" noise of its steps 4-6), as diffusers' `EulerDiscreteScheduler`
/// with linear interpolation of sigmas or Karras sigmas (use_karras_sigmas, between sigma_min and
/// sigma_max where set), and a final sigma of 0 or sigma_0 (final_sigmas_type sigma_min).
///
/// Code names and the paper's symbols:
///
///     sigma          sigma_i            the run's sigmas[i]
///     sigmaNext      sigma_{i+1}        0 after the last step
///     gamma          gamma_i            min(S_churn / n, sqrt(2) - 1) for S_tmin <= sigma <= S_tmax
///     sigmaHat       t_hat_i            sigma (gamma + 1)
///     x0             D_theta(x_hat; t_hat)   the denoised sample
///     derivative     d_i                (x_hat - x0) / sigma_hat
///
/// Samples are in the sigma parametrisation x = x0 + sigma eps, so the model sees x / sqrt(sigma^2 + 1).
/// Not supported yet (rejected): interpolation_type log_linear, exponential / beta sigmas,
/// timestep_type continuous. Unlike diffusers, sigmoid betas are accepted.
public final class EulerScheduler: Scheduler {
    /// Karras et al.'s S_churn: 0 (the default) makes the sampler deterministic.
    public var sChurn: Float = 0
    /// The range of sigma in which churn noise is added (S_tmin, S_tmax).
    public var sTmin: Float = 0
    public var sTmax: Float = .infinity
    /// The scale of the churn noise (S_noise).
    public var sNoise: Float = 1

    public var timesteps: [Float] { run.timesteps }
    /// The run's count + 1 noise levels, the last 0.
    public var sigmas: [Float] { run.sigmas }
    public var initNoiseSigma: Float { run.initNoiseSigma }

    private var run: SigmaRun

    /// A scheduler for `config`; unset keys take EulerDiscreteScheduler's defaults (linear betas,
    /// epsilon, linspace spacing, steps_offset 0). Before setTimesteps the run is all T timesteps.
    public init(config: SchedulerConfig) throws {
        run = try SigmaRun(config: config)
    }

    public func setTimesteps(_ count: Int) throws { try run.set(count: count) }

    /// Whether many steps end where the sample is still pure noise (`pureNoiseCaution`).
    public var caution: String? { pureNoiseCaution(levels: sigmas) }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor {
        run.scaledInput(sample, timestep: timestep)
    }

    /// One Euler step from sigmas[i] to sigmas[i + 1]; draws noise only when churn applies.
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        // 1. sigma_i, sigma_{i+1} and the churned level sigma_hat (Karras et al. alg. 2, steps 4-5)
        let (sigma, sigmaNext) = run.takeStep(at: timestep, modelOutput: modelOutput, sample: sample)
        let gamma: Float = sTmin <= sigma && sigma <= sTmax
            ? Swift.min(sChurn / Float(sigmas.count - 1), Float(2).squareRoot() - 1) : 0
        let sigmaHat = sigma * (gamma + 1)

        // 2. x_hat = x + sqrt(sigma_hat^2 - sigma^2) S_noise z (step 6), only for gamma > 0
        var x = sample
        if gamma > 0 {
            let z = noise()
            precondition(z.shape == sample.shape, "noise \(z.shape) and sample \(sample.shape) differ")
            let scale = (sigmaHat * sigmaHat - sigma * sigma).squareRoot(), sNoise = sNoise
            z.withUnsafeBufferPointer { z in
                x.withUnsafeMutableBufferPointer { x in
                    for i in 0..<x.count { x[i] += z[i] * sNoise * scale }
                }
            }
        }

        // 3. x0 by prediction type (v uses sigma, not sigma_hat, as diffusers does)
        let prediction = run.schedule.settings.prediction
        let vOutput = -sigma / (sigma * sigma + 1).squareRoot(), vSample = sigma * sigma + 1
        // 4. dt = sigma_{i+1} - sigma_hat
        let dt = sigmaNext - sigmaHat
        var previous = Tensor.zeros(sample.shape)
        modelOutput.withUnsafeBufferPointer { m in
            x.withUnsafeBufferPointer { x in
                previous.withUnsafeMutableBufferPointer { out in
                    for i in 0..<out.count {
                        let x0: Float
                        switch prediction {
                        case .epsilon: x0 = x[i] - sigmaHat * m[i]
                        case .vPrediction: x0 = m[i] * vOutput + x[i] / vSample
                        case .sample: x0 = m[i]
                        }
                        // 5. d = (x_hat - x0) / sigma_hat, x_{i+1} = x_hat + d dt (step 8)
                        let derivative = (x[i] - x0) / sigmaHat
                        out[i] = x[i] + derivative * dt
                    }
                }
            }
        }
        return previous
    }
}
