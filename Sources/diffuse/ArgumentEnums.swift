import ArgumentParser
import Diffusion

// Flags whose values are a fixed set: the argument parser checks them and lists the choices in
// --help and in its error, so no command checks such a string by hand.

extension UNetPreset: ExpressibleByArgument {}
extension PredictionType: ExpressibleByArgument {}
extension NoiseSchedule.BetaSchedule: ExpressibleByArgument {}

extension SamplerChoice: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allNames }
    public var defaultValueDescription: String { description }
}
