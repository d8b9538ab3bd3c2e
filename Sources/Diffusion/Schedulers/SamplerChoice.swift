/// A sampler as the command line names it: a scheduler kind, optionally with Karras sigmas
/// ("dpmpp-2m-karras", as "DPM++ 2M Karras" is known) for the kinds whose diffusers class takes
/// `use_karras_sigmas`.
public struct SamplerChoice: Hashable, Sendable, CustomStringConvertible {
    public let kind: SchedulerKind
    /// Whether the run's noise levels are Karras et al.'s (use_karras_sigmas set to true).
    public let karras: Bool

    static let karrasSuffix = "-karras"

    /// The kinds that take Karras sigmas.
    public static let karrasKinds: [SchedulerKind] = [.dpmSolver2M, .dpmSolver3M, .euler, .heun, .uniPC]

    /// Every name the command line accepts, kinds first.
    public static var allNames: [String] {
        SchedulerKind.allCases.map(\.rawValue) + karrasKinds.map { $0.rawValue + karrasSuffix }
    }

    public init(kind: SchedulerKind, karras: Bool = false) {
        precondition(!karras || Self.karrasKinds.contains(kind), "\(kind.rawValue) does not take Karras sigmas")
        (self.kind, self.karras) = (kind, karras)
    }

    /// "ddim", "euler-karras", ...; nil for a name that is not a sampler.
    public init?(name: String) {
        if let kind = SchedulerKind(rawValue: name) {
            self.init(kind: kind)
        } else if name.hasSuffix(Self.karrasSuffix), let kind = SchedulerKind(rawValue: String(name.dropLast(Self.karrasSuffix.count))),
                  Self.karrasKinds.contains(kind) {
            self.init(kind: kind, karras: true)
        } else {
            return nil
        }
    }

    public var description: String { kind.rawValue + (karras ? Self.karrasSuffix : "") }

    /// A scheduler of this choice reading `config`, with use_karras_sigmas true for a Karras choice.
    public func make(config: SchedulerConfig) throws -> Scheduler {
        var config = config
        if karras { config.useKarrasSigmas = true }
        return try kind.make(config: config)
    }
}
