import Foundation
import NN
import XCTest
@testable import Diffusion

/// UNet2DModel against diffusers (Tests/Fixtures/make_unet_fixtures.py).
final class UNetTests: XCTestCase {
    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/diffusion")

    private func checkCase(_ name: String) throws {
        let caseFolder = folder.appendingPathComponent("unet_\(name)")
        let config = try UNetConfig(json: Data(contentsOf: caseFolder.appendingPathComponent("config.json")))
        let model = try UNet2DModel(config: config)
        let weights = try SafeTensors.read(from: caseFolder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        try model.load(stateDict: weights.tensors)
        let io = try SafeTensors.read(from: caseFolder.appendingPathComponent("io.safetensors"))
        let sample = try XCTUnwrap(io["sample"]), expected = try XCTUnwrap(io["output"])
        let labels = io["class_labels"].map { $0.scalars.map { Int($0) } }
        let output = model(Variable(sample), timesteps: try XCTUnwrap(io["timesteps"]).scalars, classLabels: labels).value
        // About 1e-4 of the output's scale.
        let scale = expected.scalars.map(abs).max()!
        assertClose(output, expected, atol: 1e-4 * scale, rtol: 0, name)
    }

    func testGrayWithAttentionAtADownLevelMatchesDiffusers() throws { try checkCase("gray_attn_down") }
    func testRGBClassConditionalWithOptionsMatchesDiffusers() throws { try checkCase("rgb_class_options") }
    func testThreeLevelsAt28PixelsMatchesDiffusers() throws { try checkCase("gray_no_attention") }
}
