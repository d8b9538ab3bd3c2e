import ArgumentParser
import Diffusion

/// `--timestep-spacing` (sample, compare) takes the names of diffusers' `timestep_spacing`.
extension TimestepSpacing: ExpressibleByArgument {
    static let optionHelp = ArgumentHelp(
        "How n steps pick their timesteps, in place of the model's timestep_spacing: leading, trailing (starts at the last training timestep) or linspace.")
}

extension SchedulerConfig {
    /// This config with `spacing` in place of its own, as diffusers'
    /// `Scheduler.from_config(config, timestep_spacing=...)` gives it; itself when `spacing` is nil.
    func replacingSpacing(with spacing: TimestepSpacing?) -> SchedulerConfig {
        guard let spacing else { return self }
        var config = self
        config.timestepSpacing = spacing.rawValue
        return config
    }
}
