import Diffusion
import Foundation
import Imaging
import NN
import XCTest

/// A new empty folder for `test`, removed when the test ends.
func temporaryFolder(for test: XCTestCase) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    return folder
}

/// A class-free 8x8 gray U-Net small enough for debug builds.
func tinyUNetConfig() -> UNetConfig {
    var config = UNetConfig(sampleSize: 8, inChannels: 1, outChannels: 1, blockOutChannels: [8, 8], layersPerBlock: 1,
                            downBlockTypes: [.plain, .attention], upBlockTypes: [.attention, .plain])
    config.normNumGroups = 4
    config.attentionHeadDim = 4
    return config
}

/// An 8x8 gray model with random weights, saved in the diffusers layout as `name` under
/// `root`, with a 100-step DDPM scheduler config (diffusers' defaults; `spacing` sets timestep_spacing).
/// With `classNames`, a class-conditional model of those classes (and with `guidance`, a "no
/// class" row after them, as class dropout trains).
func saveTinyModel(under root: URL, name: String = "model", spacing: String? = nil, classNames: [String] = [],
                   guidance: Bool = false) throws -> URL {
    var config = tinyUNetConfig()
    if !classNames.isEmpty { config.numClassEmbeds = classNames.count + (guidance ? 1 : 0) }
    let unet = try UNet2DModel(config: config, seed: 3)
    var scheduler = SchedulerConfig()
    scheduler.className = "DDPMScheduler"
    scheduler.numTrainTimesteps = 100
    scheduler.timestepSpacing = spacing
    let folder = root.appendingPathComponent(name)
    let weights = Dictionary(uniqueKeysWithValues: unet.namedParameters.map { ($0.name, $0.parameter.value) })
    try ModelFolder(folder).save(denoiser: unet, weights: weights, scheduler: scheduler, classNames: classNames)
    return folder
}

/// A folder `name` under `root` with `count` random 8x8 gray PNGs (the same for the same count).
func writeRandomImages(under root: URL, name: String, count: Int) throws -> URL {
    let folder = root.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for i in 0..<count {
        let pixels = Tensor.rand([64], seed: UInt64(100 + i)).scalars.map { UInt8($0 * 255) }
        try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: pixels), to: folder.appendingPathComponent("\(i).png"))
    }
    return folder
}
