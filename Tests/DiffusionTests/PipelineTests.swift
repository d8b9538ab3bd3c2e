import Foundation
import NN
import XCTest
@testable import Diffusion

/// A folder saved by diffusers loads here and samples as diffusers' DDIMPipeline does
/// (Tests/Fixtures/make_pipeline_fixtures.py).
final class PipelineTests: XCTestCase {
    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/diffusion/ddpm_folder")

    func testDiffusersFolderSamplesAsDDIMPipeline() throws {
        let (unet, schedulerConfig, _) = try ModelFolder(folder).load()
        XCTAssertEqual(schedulerConfig.className, "DDPMScheduler")
        let io = try SafeTensors.read(from: folder.appendingPathComponent("io.safetensors"))
        let latents = try XCTUnwrap(io["latents"]), expected = try XCTUnwrap(io["images"])
        let steps = try XCTUnwrap(io.metadata["steps"].flatMap(Int.init))
        let pipeline = SamplingPipeline(denoiser: unet) { try SchedulerKind.ddim.make(config: schedulerConfig) }
        let samples = try pipeline.generate(0..<latents.shape[0], steps: steps, seed: 0, latents: latents)
        // diffusers writes (x / 2 + 0.5) clamped to [0, 1], channels last.
        let images = (samples * 0.5 + 0.5).clamped(0, 1).permuted([0, 2, 3, 1])
        assertClose(images, expected, atol: 1e-4, rtol: 0, "DDIM samples")
    }

    /// Every deterministic sampler, built from the folder's DDPM config as `diffuse sample` builds
    /// it, makes what the diffusers scheduler makes from the same noise and U-Net
    /// (Tests/Fixtures/make_sampler_fixtures.py).
    func testEveryDeterministicSamplerMatchesDiffusers() throws {
        let (unet, schedulerConfig, _) = try ModelFolder(folder).load()
        let latents = try XCTUnwrap(try SafeTensors.read(from: folder.appendingPathComponent("io.safetensors"))["latents"])
        let fixture = try SafeTensors.read(from: folder.appendingPathComponent("samplers.safetensors"))
        let steps = try XCTUnwrap(fixture.metadata["steps"].flatMap(Int.init))
        let deterministic: [SchedulerKind] = [.ddim, .dpmSolver2M, .dpmSolver3M, .euler, .heun, .pndm, .uniPC]
        XCTAssertEqual(Set(deterministic), Set(SchedulerKind.allCases).subtracting([.ddpm, .eulerAncestral]))
        for kind in deterministic {
            let name = kind.rawValue
            let expected = try XCTUnwrap(fixture[name], name)
            let pipeline = SamplingPipeline(denoiser: unet) { try kind.make(config: schedulerConfig) }
            XCTAssertEqual(try pipeline.evaluations(steps: steps), fixture.metadata[name].flatMap(Int.init), name)
            XCTAssertEqual(try pipeline.makeScheduler().timestepsAfterSetting(steps), try XCTUnwrap(fixture["\(name).timesteps"]).scalars, name)
            let samples = try pipeline.generate(0..<latents.shape[0], steps: steps, seed: 0, latents: latents)
            assertClose(samples, expected, atol: 2e-5, rtol: 0, name)   // measured: at most 2.2e-6
        }
    }

    func testImageDependsOnlyOnSeedAndIndex() throws {
        let (unet, schedulerConfig, _) = try ModelFolder(folder).load()
        let pipeline = SamplingPipeline(denoiser: unet) {
            let scheduler = try SchedulerKind.ddim.make(config: schedulerConfig)
            (scheduler as? DDIMScheduler)?.eta = 1   // noise at every step, also reproducible
            return scheduler
        }
        // Bit for bit: no GEMM spans two images, so an image does not depend on its batch.
        let whole = try pipeline.generate(0..<4, steps: 5, seed: 9)
        let tail = try pipeline.generate(2..<4, steps: 5, seed: 9)
        XCTAssertEqual(tail.scalars, Array(whole.scalars[(2 * 64)...]), "images 2 and 3")

        // In batches of 3 (a full and a partial one), with progress counted in image-evaluations.
        var reported: [Int] = []
        let batched = try pipeline.generate(count: 4, batchSize: 3, steps: 5, seed: 9) { reported.append($0) }
        XCTAssertEqual(batched.scalars, whole.scalars, "batches of 3")
        XCTAssertEqual(reported, [3, 6, 9, 12, 15, 16, 17, 18, 19, 20])
        for batchSize in [1, 2] {
            XCTAssertEqual(try pipeline.generate(count: 4, batchSize: batchSize, steps: 5, seed: 9).scalars, whole.scalars,
                           "batches of \(batchSize)")
        }
    }
}

private extension Scheduler {
    /// The run's timesteps for `count` steps.
    func timestepsAfterSetting(_ count: Int) throws -> [Float] {
        try setTimesteps(count)
        return timesteps
    }
}
