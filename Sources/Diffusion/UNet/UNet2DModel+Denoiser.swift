import Foundation
import NN

extension UNet2DModel: Denoiser {
    public static let className = "UNet2DModel"

    public var sampleShape: [Int] { [config.inChannels, config.sampleSize, config.sampleSize] }
    public var classCount: Int? { config.numClassEmbeds }
    public func configJSON() throws -> Data { try config.jsonData() }
    public func sameArchitecture(seed: UInt64) throws -> UNet2DModel { try UNet2DModel(config: config, seed: seed) }

    public func callAsFunction(_ sample: Variable, timesteps: [Float], conditioning: Conditioning) -> Variable {
        self(sample, timesteps: timesteps, classLabels: conditioning.classLabels)
    }
}
