/// The samplers `diffuse sample` offers, by their command-line names.
public enum SchedulerKind: String, CaseIterable, Sendable {
    case ddpm, ddim
    /// DPM-Solver++ of order 2 and 3, whatever solver_order the config sets.
    case dpmSolver2M = "dpmpp-2m", dpmSolver3M = "dpmpp-3m"
    case euler, eulerAncestral = "euler-a", heun, pndm
    case uniPC = "unipc"

    /// A scheduler of this kind reading `config` (a model's scheduler_config.json): keys in the
    /// file are used as written, missing ones take this scheduler's diffusers defaults.
    public func make(config: SchedulerConfig) throws -> Scheduler {
        switch self {
        case .ddpm: return try DDPMScheduler(config: config)
        case .ddim: return try DDIMScheduler(config: config)
        case .dpmSolver2M, .dpmSolver3M:
            var config = config
            config.solverOrder = self == .dpmSolver2M ? 2 : 3
            return try DPMSolverMultistepScheduler(config: config)
        case .euler: return try EulerScheduler(config: config)
        case .eulerAncestral: return try EulerAncestralScheduler(config: config)
        case .heun: return try HeunScheduler(config: config)
        case .pndm: return try PNDMScheduler(config: config)
        case .uniPC: return try UniPCMultistepScheduler(config: config)
        }
    }
}
