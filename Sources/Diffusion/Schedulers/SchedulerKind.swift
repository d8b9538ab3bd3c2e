/// The samplers `diffuse sample` offers, by their command-line names.
public enum SchedulerKind: String, CaseIterable, Sendable {
    case ddpm, ddim, euler, eulerAncestral = "euler-a", heun, pndm

    /// A scheduler of this kind reading `config` (a model's scheduler_config.json): keys in the
    /// file are used as written, missing ones take this scheduler's diffusers defaults.
    public func make(config: SchedulerConfig) throws -> Scheduler {
        switch self {
        case .ddpm: return try DDPMScheduler(config: config)
        case .ddim: return try DDIMScheduler(config: config)
        case .euler: return try EulerScheduler(config: config)
        case .eulerAncestral: return try EulerAncestralScheduler(config: config)
        case .heun: return try HeunScheduler(config: config)
        case .pndm: return try PNDMScheduler(config: config)
        }
    }
}
