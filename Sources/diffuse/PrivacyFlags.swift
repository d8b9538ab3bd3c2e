import ArgumentParser
import Diffusion
import Foundation

/// `diffuse train`'s differential-privacy flags (DP-SGD with an RDP accountant).
struct PrivacyFlags: ParsableArguments {
    @Option(help: "Differentially private training (DP-SGD): clip each image's gradient to this L2 norm. Needs --dp-delta and one of --dp-epsilon, --dp-noise-multiplier.")
    var dpMaxGradNorm: Float?
    @Option(help: "The delta of (epsilon, delta)-DP: below 1 / the number of training images.")
    var dpDelta: Double?
    @Option(help: "The epsilon to spend by the last step: the noise is chosen for it (RDP accountant).")
    var dpEpsilon: Double?
    @Option(help: "The noise's standard deviation over the clip norm, instead of --dp-epsilon.")
    var dpNoiseMultiplier: Double?
    @Option(help: "Timestep-and-noise draws averaged into each image's gradient before clipping (noise multiplicity).")
    var dpNoiseDraws: Int = 1

    var isRequested: Bool { dpMaxGradNorm != nil || dpDelta != nil || dpEpsilon != nil || dpNoiseMultiplier != nil }

    func validate() throws {
        guard isRequested else { return }
        guard let norm = dpMaxGradNorm, norm.isFinite, norm > 0 else {
            throw ValidationError("--dp-max-grad-norm: differentially private training needs a clip norm, positive and finite")
        }
        guard let delta = dpDelta, delta.isFinite, delta > 0, delta < 1 else {
            throw ValidationError("--dp-delta: differentially private training needs a delta in (0, 1)")
        }
        guard (dpEpsilon == nil) != (dpNoiseMultiplier == nil) else {
            throw ValidationError("--dp-epsilon, --dp-noise-multiplier: give exactly one")
        }
        if let epsilon = dpEpsilon, !(epsilon.isFinite && epsilon > 0) { throw ValidationError("--dp-epsilon must be positive and finite") }
        if let sigma = dpNoiseMultiplier, !(sigma.isFinite && sigma > 0) {
            throw ValidationError("--dp-noise-multiplier must be positive and finite")
        }
        guard dpNoiseDraws >= 1 else { throw ValidationError("--dp-noise-draws must be positive") }
    }

    /// The run's privacy options for `imageCount` training images, `batchSize` expected a
    /// step over `steps` steps: the noise for --dp-epsilon, a fresh secret noise seed. Nil
    /// without the flags.
    func options(imageCount: Int, batchSize: Int, steps: Int) throws -> PrivacyOptions? {
        guard isRequested, let norm = dpMaxGradNorm, let delta = dpDelta else { return nil }
        guard delta < 1 / Double(imageCount) else {
            throw CommandError("--dp-delta \(delta) must be below 1 / \(imageCount) (the number of training images): "
                               + "a larger delta allows a mechanism that publishes some images outright")
        }
        let sampleRate = min(1, Double(batchSize) / Double(imageCount))
        var sigma = dpNoiseMultiplier
        if let epsilon = dpEpsilon {
            sigma = RDPAccountant.noiseMultiplier(epsilon: epsilon, delta: delta, sampleRate: sampleRate, steps: steps)
            guard sigma != nil else {
                throw CommandError("--dp-epsilon \(epsilon): no noise multiplier up to a million reaches it in \(steps) steps at sample rate \(sampleRate)")
            }
        }
        var secure = SystemRandomNumberGenerator()
        return PrivacyOptions(maxGradNorm: norm, noiseMultiplier: sigma!, delta: delta, targetEpsilon: dpEpsilon,
                              noiseDraws: dpNoiseDraws, noiseSeed: secure.next())
    }
}
