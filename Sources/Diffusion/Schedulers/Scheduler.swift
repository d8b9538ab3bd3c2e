import NN

/// A sampler: the reverse process as a sequence of steps from noise to an image, with
/// diffusers' interface (set_timesteps, scale_model_input, step, init_noise_sigma).
///
/// The sampling loop is:
///
///     try scheduler.setTimesteps(steps)
///     x = noise * scheduler.initNoiseSigma
///     for t in scheduler.timesteps {
///         let output = model(scheduler.scaleModelInput(x, timestep: t), t)
///         x = scheduler.step(modelOutput: output, timestep: t, sample: x, noise: nextNoise)
///     }
///
/// Schedulers are stateful (multistep solvers remember earlier outputs): one a sampling run.
/// Each model evaluation is one entry of `timesteps`, so its count is the run's NFE.
public protocol Scheduler: AnyObject {
    /// The timesteps of the run, in the order the model is called.
    var timesteps: [Float] { get }
    /// The standard deviation of the starting noise.
    var initNoiseSigma: Float { get }
    /// Prepares a run of `count` steps; throws for a count the scheduler cannot do.
    func setTimesteps(_ count: Int) throws
    /// The model's input at `timestep` for the current sample (identity for DDPM and DDIM).
    func scaleModelInput(_ sample: Tensor, timestep: Float) -> Tensor
    /// One step of the reverse process. `noise` returns fresh standard normal noise of the
    /// sample's shape, for schedulers that add noise; it is called at most once a step.
    func step(modelOutput: Tensor, timestep: Float, sample: Tensor, noise: () -> Tensor) -> Tensor
    /// What a user should know before running these timesteps: a known way this run can fail on
    /// its schedule; nil when there is none.
    var caution: String? { get }
}

extension Scheduler {
    public var caution: String? { nil }
}
