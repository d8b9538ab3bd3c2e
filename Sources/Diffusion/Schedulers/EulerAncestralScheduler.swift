import NN

/// Euler ancestral sampling, as diffusers' `EulerAncestralDiscreteScheduler` (k-diffusion's
/// `sample_euler_ancestral`): each step goes down by Euler's method to sigma_down, below the next
/// noise level, then adds fresh noise of standard deviation sigma_up back up to it, with
/// sigma_down^2 + sigma_up^2 = sigma_{i+1}^2 (the DDPM ancestral step at eta 1).
///
/// Code names:
///
///     sigma        sigma_i (diffusers' sigma_from)   the run's sigmas[i]
///     sigmaNext    sigma_{i+1} (sigma_to)            0 after the last step
///     sigmaUp      sqrt(sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2)
///     sigmaDown    sqrt(sigma_to^2 - sigma_up^2)
///     x0           the denoised sample
///     derivative   (x - x0) / sigma
///
/// Prediction types epsilon and v_prediction (diffusers does not implement sample). Unlike
/// diffusers, sigmoid betas are accepted; noise is not drawn for the last step (sigma_up = 0).
public final class EulerAncestralScheduler: Scheduler {
    public var timesteps: [Float] { run.timesteps }
    /// The run's count + 1 noise levels, the last 0.
    public var sigmas: [Float] { run.sigmas }
    public var initNoiseSigma: Float { run.initNoiseSigma }

    private var run: SigmaRun

    /// A scheduler for `config`; unset keys take EulerAncestralDiscreteScheduler's defaults (linear
    /// betas, epsilon, linspace spacing, steps_offset 0); the Euler keys its diffusers class lacks
    /// (Karras sigmas, final_sigmas_type, ...) are ignored. Throws a ConfigError for prediction type sample.
    public init(config: SchedulerConfig) throws {
        run = try SigmaRun(config: config, keys: [])
        if run.schedule.settings.prediction == .sample {
            throw ConfigError(field: "prediction_type", reason: "sample is not supported by Euler ancestral (epsilon, v_prediction)")
        }
    }

    public func setTimesteps(_ count: Int) throws { try run.set(count: count) }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor {
        run.scaledInput(sample, timestep: timestep)
    }

    /// One ancestral step from sigmas[i] to sigmas[i + 1]; draws noise unless sigma_up is 0.
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        // 1. sigma_from, sigma_to, and the split of sigma_to^2 into sigma_down^2 + sigma_up^2
        let (sigma, sigmaNext) = run.takeStep(at: timestep, modelOutput: modelOutput, sample: sample)
        let sigmaUp = (sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)).squareRoot()
        let sigmaDown = (sigmaNext * sigmaNext - sigmaUp * sigmaUp).squareRoot()
        // 2. dt = sigma_down - sigma
        let dt = sigmaDown - sigma

        let prediction = run.schedule.settings.prediction
        let vOutput = -sigma / (sigma * sigma + 1).squareRoot(), vSample = sigma * sigma + 1
        var previous = Tensor.zeros(sample.shape)
        modelOutput.withUnsafeBufferPointer { m in
            sample.withUnsafeBufferPointer { x in
                previous.withUnsafeMutableBufferPointer { out in
                    for i in 0..<out.count {
                        // 3. x0 by prediction type
                        let x0 = prediction == .epsilon ? x[i] - sigma * m[i] : m[i] * vOutput + x[i] / vSample
                        // 4. d = (x - x0) / sigma; Euler down to sigma_down
                        let derivative = (x[i] - x0) / sigma
                        out[i] = x[i] + derivative * dt
                    }
                }
            }
        }

        // 5. plus sigma_up z, back up to the noise level sigma_{i+1}
        guard sigmaUp > 0 else { return previous }
        let z = noise()
        precondition(z.shape == sample.shape, "noise \(z.shape) and sample \(sample.shape) differ")
        return Tensor.combination(1, previous, sigmaUp, z)
    }
}
