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
        let pipeline = SamplingPipeline(unet: unet) { try SchedulerKind.ddim.make(config: schedulerConfig) }
        let samples = try pipeline.generate(0..<latents.shape[0], steps: steps, seed: 0, latents: latents)
        // diffusers writes (x / 2 + 0.5) clamped to [0, 1], channels last.
        let images = (samples * 0.5 + 0.5).clamped(0, 1).permuted([0, 2, 3, 1])
        assertClose(images, expected, atol: 1e-4, rtol: 0, "DDIM samples")
    }

    func testImageDependsOnlyOnSeedAndIndex() throws {
        let (unet, schedulerConfig, _) = try ModelFolder(folder).load()
        let pipeline = SamplingPipeline(unet: unet) {
            let scheduler = try SchedulerKind.ddim.make(config: schedulerConfig)
            (scheduler as? DDIMScheduler)?.eta = 1   // noise at every step, also reproducible
            return scheduler
        }
        let whole = try pipeline.generate(0..<4, steps: 5, seed: 9)
        let tail = try pipeline.generate(2..<4, steps: 5, seed: 9)
        assertClose(tail, Tensor(shape: tail.shape, Array(whole.scalars[(2 * 64)...])), atol: 1e-5, rtol: 0, "images 2 and 3")
    }
}
