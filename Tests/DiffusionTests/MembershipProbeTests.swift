import Foundation
import NN
import XCTest
@testable import Diffusion

/// The membership probe's errors: DDIM moves as the DDIM scheduler makes them, known answers on
/// a denoiser that predicts no noise, and independence from batching.
final class MembershipProbeTests: XCTestCase {
    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/diffusion/ddpm_folder")

    /// The fixture folder's U-Net (a v-prediction model) probed at t = 20 and 60; with
    /// `zeroWeights` every weight is 0, so it outputs 0, read as `prediction`.
    private func probe(zeroWeights: Bool = false, prediction: PredictionType? = nil) throws -> (MembershipProbe, Tensor, SchedulerConfig) {
        let (unet, config, _) = try ModelFolder(folder).load()
        if zeroWeights {
            try unet.load(stateDict: Dictionary(uniqueKeysWithValues: unet.namedParameters.map { ($0.name, Tensor.zeros($0.parameter.value.shape)) }))
        }
        let probe = try MembershipProbe(denoiser: unet, schedule: config.noiseSchedule(), prediction: prediction ?? config.prediction(),
                                        timesteps: [20, 60], interval: 20, seed: 5)
        let images = (Tensor.rand([4] + unet.sampleShape, seed: 9) * 2 - 1)
        return (probe, images, config)
    }

    /// A step down by the probe's DDIM move is the DDIM scheduler's deterministic step (eta 0,
    /// no clipping), which matches diffusers (SchedulerTests).
    func testDDIMMoveDownIsTheSchedulersStep() throws {
        let (probe, images, saved) = try probe()
        XCTAssertEqual(probe.prediction, .vPrediction)
        var config = saved
        config.clipSample = false
        let scheduler = try DDIMScheduler(config: config)
        try scheduler.setTimesteps(10)
        let (t, previous) = (Int(scheduler.timesteps[0]), Int(scheduler.timesteps[1]))
        let output = Tensor.randn(images.shape, seed: 3)
        let expected = scheduler.step(modelOutput: output, timestep: Float(t), sample: images) { Tensor.zeros(images.shape) }
        assertClose(probe.ddimMove(images, output: output, from: t, to: previous), expected, atol: 1e-5, rtol: 1e-5, "DDIM move")
    }

    /// A denoiser that predicts zero noise: the loss is the mean square of the seeded noise, and
    /// every DDIM move only rescales, so SecMI's round trip lands where it started.
    func testZeroNoisePredictionGivesKnownErrors() throws {
        let (probe, images, _) = try probe(zeroWeights: true, prediction: .epsilon)
        let errors = probe.errors(of: images, labels: nil, first: 0)
        let imageSize = images.count / 4
        for (k, t) in probe.timesteps.enumerated() {
            let noise = Tensor.randn(images.shape, seed: SeedSequence.derive(5, UInt64(k + 1))).scalars
            let expected = (0..<4).map { i in noise[(i * imageSize)..<((i + 1) * imageSize)].map { Double($0 * $0) }.reduce(0, +) / Double(imageSize) }
            let loss = try XCTUnwrap(errors[.init(attack: .loss, timestep: t)])
            for (a, b) in zip(loss, expected) { XCTAssertEqual(a, b, accuracy: 1e-6 * b) }
            let roundTrip = try XCTUnwrap(errors[.init(attack: .tError, timestep: t)])
            for e in roundTrip { XCTAssertLessThan(e, 1e-10) }
        }
    }

    /// Image i's errors depend on (seed, i) only: two batches of two give what one of four gives.
    func testErrorsDoNotDependOnBatching() throws {
        let (probe, images, _) = try probe()
        var evaluations = 0
        let whole = probe.errors(of: images, labels: nil, first: 0) { evaluations += 1 }
        XCTAssertEqual(evaluations, probe.evaluationsPerImage)
        XCTAssertEqual(whole.count, 4, "two attacks at two timesteps")
        let size = images.count / 4
        let tail = probe.errors(of: Tensor(shape: [2] + Array(images.shape.dropFirst()), Array(images.scalars[(2 * size)...])),
                                labels: nil, first: 2)
        for (statistic, values) in whole {
            let part = try XCTUnwrap(tail[statistic])
            for (a, b) in zip(values.suffix(2), part) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(a, 1e-6), "\(statistic)") }
        }
        XCTAssertNotEqual(whole[.init(attack: .loss, timestep: 20)], whole[.init(attack: .loss, timestep: 60)])
        XCTAssertThrowsError(try MembershipProbe(denoiser: probe.denoiser, schedule: probe.schedule, prediction: .epsilon,
                                                 timesteps: [probe.schedule.trainTimesteps - 5], interval: 10, seed: 0))
    }
}
