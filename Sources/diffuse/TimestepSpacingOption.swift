import ArgumentParser
import Diffusion

/// `--timestep-spacing`: one run's timestep spacing in place of the model's, as diffusers'
/// `Scheduler.from_config(config, timestep_spacing=...)` gives it.
enum TimestepSpacingOption: String, ExpressibleByArgument, CaseIterable {
    case leading, trailing, linspace

    static let help = ArgumentHelp(
        "How n steps pick their timesteps, in place of the model's timestep_spacing: leading, trailing (starts at the last training timestep) or linspace.")

    /// `config` with this spacing.
    func applied(to config: SchedulerConfig) -> SchedulerConfig {
        var config = config
        config.timestepSpacing = rawValue
        return config
    }
}
