import Foundation
import NN
import XCTest
@testable import Diffusion

/// UNet2DModel against diffusers (Tests/Fixtures/make_unet_fixtures.py).
final class UNetTests: XCTestCase {
    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/diffusion")

    /// Checks the case and returns its largest error relative to the output's scale.
    @discardableResult
    private func checkCase(_ name: String) throws -> Float {
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
        return zip(output.scalars, expected.scalars).map { abs($0 - $1) }.max()! / scale
    }

    func testGrayWithAttentionAtADownLevelMatchesDiffusers() throws { try checkCase("gray_attn_down") }
    func testRGBClassConditionalWithOptionsMatchesDiffusers() throws { try checkCase("rgb_class_options") }
    func testThreeLevelsAt28PixelsMatchesDiffusers() throws { try checkCase("gray_no_attention") }

    func testEveryConvolutionAlgorithmMatchesDiffusers() throws {
        // conv2d's default sends only the convolutions with 8 or more input channels to Winograd;
        // here every 3x3 one goes by each algorithm in turn.
        for algorithm in [Conv2dAlgorithm.im2col, .winograd2x2, .winograd4x4] {
            let errors = try Conv2dAlgorithm.$current.withValue(algorithm) {
                try ["gray_attn_down", "rgb_class_options", "gray_no_attention"].map(checkCase)
            }
            print("UNet vs diffusers by \(algorithm): largest error / output scale \(errors.max()!)")
        }
    }

    func testUnsupportedConfigValuesNameTheField() throws {
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("unet_gray_attn_down/config.json"))) as! [String: Any]
        let cases: [(String, Any)] = [("act_fn", "gelu"), ("resnet_time_scale_shift", "scale_shift"), ("dropout", 0.1),
                                      ("down_block_types", ["CrossAttnDownBlock2D", "DownBlock2D"]), ("norm_num_groups", 3),
                                      ("block_out_channels", [4]), ("layers_per_block", "two"), ("class_embed_type", "timestep"),
                                      // Hostile values that reached preconditions or allocated without bound:
                                      ("sample_size", 15), ("sample_size", 1), ("sample_size", 0), ("sample_size", -8),
                                      ("norm_eps", -1), ("mid_block_scale_factor", 0), ("block_out_channels", [100_000, 100_000]),
                                      ("block_out_channels", [8192, 8192]), ("layers_per_block", 1_000_000),
                                      ("num_class_embeds", 1_000_000_000)]
        for (field, value) in cases {
            var config = base
            config[field] = value
            XCTAssertThrowsError(try UNetConfig(json: JSONSerialization.data(withJSONObject: config)), field) { error in
                XCTAssertTrue("\(error)".contains("\"\(field)\"") || "\(error)".contains("down_block_types"), "\(field): \(error)")
            }
        }
        // A config written here reads back equal, and diffusers' own keys round-trip.
        let config = try UNetConfig(json: JSONSerialization.data(withJSONObject: base))
        XCTAssertEqual(try UNetConfig(json: config.jsonData()), config)
    }
}
