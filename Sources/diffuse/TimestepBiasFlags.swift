import ArgumentParser
import Diffusion

extension TimestepBias.Strategy: ExpressibleByArgument {}

/// `diffuse train`'s timestep-bias flags, named and defaulted as diffusers' SDXL training script's.
struct TimestepBiasFlags: ParsableArguments {
    @Option(help: "Draw these training timesteps more often: earlier (the first --timestep-bias-portion, low noise), later (the last portion, high noise) or range (--timestep-bias-begin..<--timestep-bias-end). Default: uniform draws.")
    var timestepBiasStrategy: TimestepBias.Strategy?
    @Option(help: "How many times as often the biased timesteps are drawn (with --timestep-bias-strategy).")
    var timestepBiasMultiplier: Double?
    @Option(help: "The share of the timesteps that earlier and later bias.")
    var timestepBiasPortion: Double = 0.25
    @Option(help: "The first biased timestep of range.")
    var timestepBiasBegin: Int = 0
    @Option(help: "One past the last biased timestep of range.")
    var timestepBiasEnd: Int = 1000

    func validate() throws {
        guard timestepBiasStrategy != nil else {
            if timestepBiasMultiplier != nil { throw ValidationError("--timestep-bias-multiplier needs --timestep-bias-strategy") }
            return
        }
        guard let multiplier = timestepBiasMultiplier, multiplier.isFinite, multiplier > 0, multiplier != 1 else {
            throw ValidationError("--timestep-bias-strategy needs --timestep-bias-multiplier, positive and other than 1")
        }
    }

    /// The bias the flags ask for, nil for uniform draws; throws when it does not fit a schedule
    /// of `trainTimesteps`.
    func bias(trainTimesteps: Int) throws -> TimestepBias? {
        guard let strategy = timestepBiasStrategy, let multiplier = timestepBiasMultiplier else { return nil }
        let bias = TimestepBias(strategy: strategy, multiplier: multiplier, portion: timestepBiasPortion,
                                begin: timestepBiasBegin, end: timestepBiasEnd)
        if let problem = bias.problem(trainTimesteps: trainTimesteps) { throw CommandError("--timestep-bias-*: \(problem)") }
        return bias
    }
}
