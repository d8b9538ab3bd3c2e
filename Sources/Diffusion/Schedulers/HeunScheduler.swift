import NN

/// Heun's method on the probability-flow ODE dx/dsigma = (x - x0(x, sigma)) / sigma (Karras et al.
/// 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", algorithm 1), as
/// diffusers' `HeunDiscreteScheduler`: each step from sigma_i to sigma_{i+1} is an Euler step, then
/// (unless sigma_{i+1} is 0) a correction with the mean of the slopes at both ends.
///
/// The run interleaves the two halves: of a run of n steps (SigmaSchedule.run) every timestep but
/// the first is repeated (2n - 1 model evaluations), and so is every sigma but the first and the
/// final 0: sigma_0, sigma_1, sigma_1, ..., sigma_{n-1}, sigma_{n-1}, 0. Entry k of the run is a
/// first-order half for even k and a second-order one for odd k.
///
/// Code names and the paper's symbols (the paper's t is the noise level sigma; no churn, as in diffusers):
///
///     sigma              t_i                 the noise level a step starts from
///     sigmaNext          t_{i+1}             0 after the last step
///     x0                 D_theta(x; t)       the denoised sample, clamped with clip_sample
///     derivative         d_i = (x_i - x0) / t_i                                    (step 4)
///     dt                 t_{i+1} - t_i
///     first.sample       x_i, kept while the model sees the Euler estimate x_{i+1}  (step 5)
///     secondDerivative   d'_i = (x_{i+1} - x0) / t_{i+1}, averaged with d_i         (steps 7-8)
///
/// Samples are in the sigma parametrisation x = x0 + sigma eps, so the model sees x / sqrt(sigma^2 + 1).
/// Karras sigmas (use_karras_sigmas, sigma_min, sigma_max) come from SigmaSchedule. Not supported:
/// exponential and beta sigmas (rejected when true), the exp beta schedule.
/// Unlike diffusers, sigmoid betas are accepted. Before setTimesteps the run is all T training
/// timesteps interleaved, as diffusers' constructor sets it for every spacing but leading with a
/// steps_offset.
public final class HeunScheduler: Scheduler {
    public private(set) var timesteps: [Float]
    /// The run's 2n interleaved noise levels, the last 0.
    public private(set) var sigmas: [Float]
    public var initNoiseSigma: Float { schedule.initNoiseSigma(sigmas) }

    private let schedule: SigmaSchedule
    private var counter = StepCounter()
    /// What the first-order half leaves for the second: its slope d_i, its dt and its start x_i;
    /// nil when the next entry of the run is a first-order half.
    private var first: (derivative: Tensor, dt: Float, sample: Tensor)?

    /// A scheduler for `config`; unset keys take HeunDiscreteScheduler's defaults (linear betas from
    /// 0.00085 to 0.012, epsilon, clip_sample false with range 1, linspace spacing, steps_offset 0).
    /// Keys HeunDiscreteScheduler does not have are ignored, as diffusers' from_config ignores them:
    /// rescale_betas_zero_snr, thresholding, interpolation_type, timestep_type, final_sigmas_type.
    public init(config: SchedulerConfig) throws {
        var config = config
        config.betaStart = config.betaStart ?? 0.00085
        config.betaEnd = config.betaEnd ?? 0.012
        config.clipSample = config.clipSample ?? false
        config.rescaleBetasZeroSNR = nil
        config.thresholding = nil
        schedule = try SigmaSchedule(config: config, keys: .karras)
        (timesteps, sigmas) = Self.interleaved(schedule.trainingRun())
    }

    /// Above this, the first step's amplification (see `caution`) made samples of noise on the
    /// shipped Fashion-MNIST model: 14% of pixels saturated at 316 (50 steps), 3% at 158, 2% at 79
    /// (real images: 0.8%); leading spacing (1.0) and the multistep solvers are unaffected.
    static let cautionAmplification: Float = 100

    /// The first step's caution (`firstStepCaution`), else the pure-noise one (`pureNoiseCaution`).
    public var caution: String? {
        // The interleaved sigmas once each: sigma_0, sigma_1, ..., sigma_{n-1}, 0.
        firstStepCaution ?? pureNoiseCaution(levels: [sigmas[0]] + stride(from: 1, to: sigmas.count, by: 2).map { sigmas[$0] })
    }

    /// The trapezoid step from sigma_0 to sigma_1 moves the sample by (sigma_1 - sigma_0) times
    /// the mean of the slopes at both ends, which differ by (x0 at sigma_0 - x0 at sigma_1) /
    /// sigma_1: a difference between the model's two predictions comes out multiplied by about
    /// sigma_0 / (2 sigma_1). With trailing or linspace spacing on a schedule whose last sigma is
    /// huge (capped cosine betas: 20,291 at t = 999) that is hundreds or thousands.
    private var firstStepCaution: String? {
        guard sigmas.count > 2, sigmas[1] > 0 else { return nil }
        let amplification = sigmas[0] / (2 * sigmas[1])
        guard amplification > Self.cautionAmplification else { return nil }
        return String(format: "heun's first step goes from sigma %.5g (t = %g) to %.3g, which multiplies any difference "
                      + "between the model's two predictions by %.0f: expect noisy, saturated samples; start lower with "
                      + "--timestep-spacing leading, or use a multistep solver (dpmpp-2m, unipc)",
                      sigmas[0], timesteps[0], sigmas[1], amplification)
    }

    public func setTimesteps(_ count: Int) throws {
        (timesteps, sigmas) = Self.interleaved(try schedule.run(count: count))
        counter.reset()
        first = nil
    }

    public func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor {
        scaledForSigma(sample, sigma: sigmas[counter.current(timestep, in: timesteps)])
    }

    /// The first-order half (an Euler step from sigma_i to sigma_{i+1}) or the second-order one
    /// (the step from sigma_i again, with the mean slope); never draws noise.
    public func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor {
        precondition(modelOutput.shape == sample.shape, "model output \(modelOutput.shape) and sample \(sample.shape) differ")
        let index = counter.current(timestep, in: timesteps)
        precondition(index + 1 < sigmas.count, "the run has no step after timestep \(timestep)")
        counter.advance()
        let settings = schedule.settings

        guard let first else {
            // 1. first order at sigma_i: x0, d_i = (x_i - x0) / sigma_i, x_{i+1} = x_i + d_i dt
            let sigma = sigmas[index], dt = sigmas[index + 1] - sigma
            let denoise = SigmaDenoiser(settings: settings, sigma: sigma)
            var derivative = Tensor.zeros(sample.shape), previous = Tensor.zeros(sample.shape)
            modelOutput.withUnsafeBufferPointer { m in
                sample.withUnsafeBufferPointer { x in
                    derivative.withUnsafeMutableBufferPointer { d in
                        previous.withUnsafeMutableBufferPointer { out in
                            for i in 0..<out.count {
                                d[i] = (x[i] - denoise(m[i], sample: x[i])) / sigma
                                out[i] = x[i] + d[i] * dt
                            }
                        }
                    }
                }
            }
            self.first = (derivative, dt, sample)
            return previous
        }

        // 2. second order at sigma_{i+1}: d'_i = (x_{i+1} - x0) / sigma_{i+1}, then
        //    x_{i+1} = x_i + (d_i + d'_i) / 2 dt
        let sigmaNext = sigmas[index]
        let denoise = SigmaDenoiser(settings: settings, sigma: sigmaNext)
        let dt = first.dt
        var previous = Tensor.zeros(sample.shape)
        modelOutput.withUnsafeBufferPointer { m in
            sample.withUnsafeBufferPointer { x in
                first.derivative.withUnsafeBufferPointer { d in
                    first.sample.withUnsafeBufferPointer { start in
                        previous.withUnsafeMutableBufferPointer { out in
                            for i in 0..<out.count {
                                let secondDerivative = (x[i] - denoise(m[i], sample: x[i])) / sigmaNext
                                out[i] = start[i] + (d[i] + secondDerivative) / 2 * dt
                            }
                        }
                    }
                }
            }
        }
        self.first = nil
        return previous
    }

    /// A run with every timestep but the first, and every sigma but the first and the final 0,
    /// repeated: the entries of the second-order halves.
    private static func interleaved(_ run: (timesteps: [Float], sigmas: [Float])) -> (timesteps: [Float], sigmas: [Float]) {
        let timesteps = run.timesteps.prefix(1) + run.timesteps.dropFirst().flatMap { [$0, $0] }
        let inner = run.sigmas.dropFirst().dropLast()
        return (Array(timesteps), run.sigmas.prefix(1) + inner.flatMap { [$0, $0] } + run.sigmas.suffix(1))
    }
}

/// The denoised sample x0 of one element in the sigma parametrisation x = x0 + sigma eps, from
/// the model output by prediction type, clamped to the clip range when there is one.
struct SigmaDenoiser {
    private let prediction: PredictionType
    private let sigma: Float
    /// v prediction: x0 = m (-sigma / sqrt(sigma^2 + 1)) + x / (sigma^2 + 1).
    private let vOutput: Float, vSample: Float
    private let clipRange: Float?

    init(settings: SchedulerSettings, sigma: Float) {
        prediction = settings.prediction
        self.sigma = sigma
        vOutput = -sigma / (sigma * sigma + 1).squareRoot()
        vSample = sigma * sigma + 1
        clipRange = settings.clipRange
    }

    @inline(__always)
    func callAsFunction(_ m: Float, sample x: Float) -> Float {
        var x0: Float
        switch prediction {
        case .epsilon: x0 = x - sigma * m
        case .vPrediction: x0 = m * vOutput + x / vSample
        case .sample: x0 = m
        }
        if let r = clipRange { x0 = Swift.min(Swift.max(x0, -r), r) }
        return x0
    }
}
