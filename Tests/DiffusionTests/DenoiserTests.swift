import Foundation
import NN
import XCTest
@testable import Diffusion

/// The denoiser seam: the registry builds the architecture a config.json names, and a model
/// folder round-trips any denoiser through it.
final class DenoiserTests: XCTestCase {
    private func config() -> UNetConfig {
        var config = UNetConfig(sampleSize: 8, inChannels: 1, outChannels: 1, blockOutChannels: [8, 8], layersPerBlock: 1,
                                downBlockTypes: [.plain, .plain], upBlockTypes: [.plain, .plain])
        config.normNumGroups = 4
        config.numClassEmbeds = 3
        return config
    }

    func testRegistryBuildsTheNamedArchitecture() throws {
        let unet = try UNet2DModel(config: config(), seed: 5)
        let made = try DenoiserRegistry.make(configJSON: unet.configJSON(), seed: 5)
        let rebuilt = try XCTUnwrap(made as? UNet2DModel)
        XCTAssertEqual(rebuilt.config, config())
        XCTAssertEqual(rebuilt.stateDict().mapValues(\.scalars), unet.stateDict().mapValues(\.scalars), "same seed, same weights")
        XCTAssertEqual(made.sampleShape, [1, 8, 8])
        XCTAssertEqual(made.classCount, 3)
        XCTAssertEqual(DenoiserRegistry.classNames, ["UNet2DModel"])

        let other = Data(#"{"_class_name": "DiTTransformer2DModel", "sample_size": 8}"#.utf8)
        XCTAssertThrowsError(try DenoiserRegistry.make(configJSON: other)) { error in
            XCTAssertEqual("\(error)", "config field \"_class_name\": is DiTTransformer2DModel; supported: UNet2DModel")
        }
        XCTAssertThrowsError(try DenoiserRegistry.make(configJSON: Data("[1]".utf8)))
    }

    /// Through the protocol, the denoiser predicts what the U-Net predicts.
    func testConditioningReachesTheModel() throws {
        let unet = try UNet2DModel(config: config(), seed: 2)
        let denoiser: any Denoiser = unet
        let x = Tensor.randn([2, 1, 8, 8], seed: 1)
        let direct = unet(Variable(x), timesteps: [10, 500], classLabels: [0, 2]).value
        let viaProtocol = denoiser(Variable(x), timesteps: [10, 500], conditioning: Conditioning(classLabels: [0, 2])).value
        XCTAssertEqual(direct.scalars, viaProtocol.scalars)
        let fresh = try denoiser.sameArchitecture(seed: 2)
        XCTAssertEqual(fresh.stateDict().mapValues(\.scalars), unet.stateDict().mapValues(\.scalars))
    }
}
