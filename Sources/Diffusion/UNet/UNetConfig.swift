import Foundation
import NN

/// The configuration of diffusers' `UNet2DModel`, read from and written to its `config.json`
/// under the same keys. Values Diffuse does not support are errors that name the field.
public struct UNetConfig: Equatable, Sendable {
    public enum DownBlock: String, Sendable { case plain = "DownBlock2D", attention = "AttnDownBlock2D" }
    public enum UpBlock: String, Sendable { case plain = "UpBlock2D", attention = "AttnUpBlock2D" }

    public var sampleSize: Int
    public var inChannels: Int
    public var outChannels: Int
    public var blockOutChannels: [Int]
    public var layersPerBlock: Int
    public var downBlockTypes: [DownBlock]
    public var upBlockTypes: [UpBlock]
    public var addAttention: Bool = true
    /// Channels per attention head; nil means one head over all channels of the block.
    public var attentionHeadDim: Int? = 8
    public var normNumGroups: Int = 32
    public var normEps: Double = 1e-5
    public var flipSinToCos: Bool = true
    public var freqShift: Int = 0
    public var centerInputSample: Bool = false
    public var downsamplePadding: Int = 1
    public var midBlockScaleFactor: Double = 1
    public var numClassEmbeds: Int? = nil

    public init(sampleSize: Int, inChannels: Int, outChannels: Int, blockOutChannels: [Int], layersPerBlock: Int,
                downBlockTypes: [DownBlock], upBlockTypes: [UpBlock]) {
        (self.sampleSize, self.inChannels, self.outChannels) = (sampleSize, inChannels, outChannels)
        (self.blockOutChannels, self.layersPerBlock) = (blockOutChannels, layersPerBlock)
        (self.downBlockTypes, self.upBlockTypes) = (downBlockTypes, upBlockTypes)
    }

    /// Channels of the time embedding: four times the first block's, as diffusers sets it.
    public var timeEmbeddingDim: Int { blockOutChannels[0] * 4 }

    /// How many times the resolution halves; an input side must be divisible by 2^this.
    public var downsamplings: Int { blockOutChannels.count - 1 }

    /// Checks the structure (matching list lengths, group counts that divide the channels, a
    /// sample size the down-sampling divides), the numbers (positive, finite), and the size: a
    /// model whose weights and optimizer state would not fit in this machine's memory.
    public func validate() throws {
        func fail(_ field: String, _ reason: String) -> ConfigError { ConfigError(field: field, reason: reason) }
        let limit = 1 << 16
        for (field, value) in [("sample_size", sampleSize), ("in_channels", inChannels), ("out_channels", outChannels),
                               ("layers_per_block", layersPerBlock), ("norm_num_groups", normNumGroups),
                               ("num_class_embeds", numClassEmbeds ?? 1)] + blockOutChannels.map({ ("block_out_channels", $0) })
            where value > limit {
            throw fail(field, "\(value) is beyond \(limit)")
        }
        guard normEps.isFinite, normEps > 0 else { throw fail("norm_eps", "\(normEps) must be positive and finite") }
        guard midBlockScaleFactor.isFinite, midBlockScaleFactor > 0 else {
            throw fail("mid_block_scale_factor", "\(midBlockScaleFactor) must be positive and finite")
        }
        guard !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 }) else {
            throw fail("block_out_channels", "needs at least one positive channel count")
        }
        guard downBlockTypes.count == blockOutChannels.count else {
            throw fail("down_block_types", "has \(downBlockTypes.count) entries for \(blockOutChannels.count) block_out_channels")
        }
        guard upBlockTypes.count == blockOutChannels.count else {
            throw fail("up_block_types", "has \(upBlockTypes.count) entries for \(blockOutChannels.count) block_out_channels")
        }
        guard layersPerBlock >= 1 else { throw fail("layers_per_block", "must be at least 1") }
        guard inChannels >= 1, outChannels >= 1 else { throw fail("in_channels", "channel counts must be positive") }
        guard normNumGroups >= 1, blockOutChannels.allSatisfy({ $0 % normNumGroups == 0 }) else {
            throw fail("norm_num_groups", "\(normNumGroups) does not divide every entry of block_out_channels \(blockOutChannels)")
        }
        if let attentionHeadDim {
            // Only blocks that attend need whole heads.
            var attending = zip(blockOutChannels, downBlockTypes).filter { $0.1 == .attention }.map(\.0)
                + zip(blockOutChannels.reversed(), upBlockTypes).filter { $0.1 == .attention }.map(\.0)
            if addAttention { attending.append(blockOutChannels[blockOutChannels.count - 1]) }
            guard attentionHeadDim >= 1, attending.allSatisfy({ $0 % attentionHeadDim == 0 }) else {
                throw fail("attention_head_dim", "\(attentionHeadDim) does not divide the channels of every attention block \(attending)")
            }
        }
        guard downsamplePadding == 0 || downsamplePadding == 1 else { throw fail("downsample_padding", "must be 0 or 1") }
        if let numClassEmbeds, numClassEmbeds < 1 { throw fail("num_class_embeds", "must be positive") }
        let divisor = 1 << downsamplings
        guard sampleSize >= divisor, sampleSize % divisor == 0 else {
            throw fail("sample_size", "\(sampleSize) is not a positive multiple of \(divisor): \(downsamplings) down-samplings halve it "
                       + "that many times, and the up-sampled features must line up with the skip connections")
        }
        // Weights, gradients and AdamW's two moments: 16 bytes a parameter, at most half the memory.
        let bytes = 16 * estimatedParameters
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes < memory / 2 else {
            throw fail("block_out_channels", String(format: "%@ with %d layers a block makes about %.2g parameters, %.1f GB to train, "
                                                    + "more than half of this machine's %.1f GB", "\(blockOutChannels)", layersPerBlock,
                                                    estimatedParameters, bytes / 1e9, memory / 1e9))
        }
    }

    /// The parameters of the convolutions, which dominate: per level, two 3x3 convolutions a
    /// residual block (down: layersPerBlock blocks, up: one more), at the level's channels.
    var estimatedParameters: Double {
        blockOutChannels.map { c in Double(2 * (2 * layersPerBlock + 1)) * 9 * Double(c) * Double(c) }.reduce(0, +)
    }
}
