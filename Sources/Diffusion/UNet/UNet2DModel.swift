import NN

/// diffusers' `UNet2DModel`: predicts noise (or v, or x0) from a noisy image and its timestep,
/// with diffusers' parameter names, so weights load both ways through safetensors.
///
///     emb  = time_embedding(timestep features) [+ class_embedding(label)]
///     h    = conv_in(x)
///     down = down blocks (resnets, attention, downsampling), keeping skips
///     h    = mid block
///     h    = up blocks (each resnet consumes a skip), then conv_out(silu(conv_norm_out(h)))
public final class UNet2DModel: Module {
    public let config: UNetConfig
    let timeEmbedding: TimestepEmbedding
    let classEmbedding: Embedding?
    let convIn: Conv2d
    let downBlocks: [DownBlock]
    let midBlock: MidBlock
    let upBlocks: [UpBlock]
    let convNormOut: GroupNorm
    let convOut: Conv2d

    /// A model with PyTorch's default initialization, seeded.
    public init(config: UNetConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        var seeds = SeedSequence(seed: seed)
        let channels = config.blockOutChannels, eps = Float(config.normEps)
        timeEmbedding = TimestepEmbedding(inFeatures: channels[0], dimension: config.timeEmbeddingDim, seeds: &seeds)
        classEmbedding = config.numClassEmbeds.map { Embedding(count: $0, dimension: config.timeEmbeddingDim, seeds: &seeds) }
        convIn = Conv2d(config.inChannels, channels[0], kernelSize: 3, padding: 1, seeds: &seeds)

        var down: [DownBlock] = []
        for (i, type) in config.downBlockTypes.enumerated() {
            down.append(DownBlock(inChannels: i == 0 ? channels[0] : channels[i - 1], outChannels: channels[i],
                                  layers: config.layersPerBlock, withAttention: type == .attention,
                                  addDownsample: i < channels.count - 1, config: config, seeds: &seeds))
        }
        downBlocks = down
        midBlock = MidBlock(channels: channels[channels.count - 1], config: config, seeds: &seeds)

        let reversed = Array(channels.reversed())
        var up: [UpBlock] = []
        for (i, type) in config.upBlockTypes.enumerated() {
            up.append(UpBlock(inChannels: reversed[min(i + 1, reversed.count - 1)],
                              previousChannels: i == 0 ? reversed[0] : reversed[i - 1], outChannels: reversed[i],
                              layers: config.layersPerBlock + 1, withAttention: type == .attention,
                              addUpsample: i < reversed.count - 1, config: config, seeds: &seeds))
        }
        upBlocks = up
        convNormOut = GroupNorm(groups: config.normNumGroups, channels: channels[0], eps: eps)
        convOut = Conv2d(channels[0], config.outChannels, kernelSize: 3, padding: 1, seeds: &seeds)
    }

    public var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("time_embedding", timeEmbedding) + prefixed("class_embedding", classEmbedding)
            + prefixed("conv_in", convIn) + prefixed("down_blocks", downBlocks) + prefixed("mid_block", midBlock)
            + prefixed("up_blocks", upBlocks) + prefixed("conv_norm_out", convNormOut) + prefixed("conv_out", convOut)
    }

    /// The model output for `sample` (N, in_channels, H, W) at `timesteps` (one per image), with
    /// `classLabels` (one per image) when the model has a class embedding. To train, run it on
    /// a `Tape(watching: parameters)`.
    public func callAsFunction(_ sample: Variable, timesteps: [Float], classLabels: [Int]? = nil) -> Variable {
        let n = sample.shape[0]
        precondition(timesteps.count == n, "\(timesteps.count) timesteps for a batch of \(n)")
        let features = timestepFeatures(timesteps, dimension: config.blockOutChannels[0],
                                        flipSinToCos: config.flipSinToCos, freqShift: config.freqShift)
        var embedding = timeEmbedding(Variable(features))
        if let classEmbedding {
            precondition(classLabels?.count == n, "a class-conditional model needs one label per image")
            embedding = embedding + classEmbedding(classLabels!)
        }
        let activatedTime = silu(embedding)

        var h = config.centerInputSample ? sample * 2 + -1 : sample
        h = convIn(h)
        var skips = [h]
        for block in downBlocks {
            let (output, blockSkips) = block(h, activatedTime: activatedTime)
            h = output
            skips += blockSkips
        }
        h = midBlock(h, activatedTime: activatedTime)
        for block in upBlocks { h = block(h, skips: &skips, activatedTime: activatedTime) }
        return convOut(convNormOut.activated(h))
    }
}
