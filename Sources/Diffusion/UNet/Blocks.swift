import NN

/// diffusers' `Downsample2D` with a conv: a 3x3 stride-2 convolution. With padding 0 the input
/// is first padded by one pixel on the right and bottom only, as diffusers does.
final class Downsample: Module {
    let conv: Conv2d
    let padding: Int

    init(channels: Int, padding: Int, seeds: inout SeedSequence) {
        conv = Conv2d(channels, channels, kernelSize: 3, stride: 2, padding: padding, seeds: &seeds)
        self.padding = padding
    }

    var namedParameters: [(name: String, parameter: Variable)] { prefixed("conv", conv) }

    func callAsFunction(_ x: Variable) -> Variable {
        conv(padding == 0 ? zeroPad(x, left: 0, right: 1, top: 0, bottom: 1) : x)
    }
}

/// diffusers' `Upsample2D` with a conv: nearest 2x upsampling, then a 3x3 convolution.
final class Upsample: Module {
    let conv: Conv2d

    init(channels: Int, seeds: inout SeedSequence) {
        conv = Conv2d(channels, channels, kernelSize: 3, padding: 1, seeds: &seeds)
    }

    var namedParameters: [(name: String, parameter: Variable)] { prefixed("conv", conv) }

    func callAsFunction(_ x: Variable) -> Variable { conv(upsampleNearest2x(x)) }
}

/// DownBlock2D / AttnDownBlock2D: resnets (each followed by an attention block in the Attn
/// variant), then an optional downsampler. Every resnet (or attention) output and the
/// downsampled output are kept as skip connections for the up path.
final class DownBlock: Module {
    let resnets: [ResnetBlock]
    let attentions: [AttentionBlock]
    let downsampler: Downsample?

    init(inChannels: Int, outChannels: Int, layers: Int, withAttention: Bool, addDownsample: Bool,
         config: UNetConfig, seeds: inout SeedSequence) {
        var resnets: [ResnetBlock] = [], attentions: [AttentionBlock] = []
        for i in 0..<layers {
            resnets.append(config.resnet(i == 0 ? inChannels : outChannels, outChannels, seeds: &seeds))
            if withAttention { attentions.append(config.attention(outChannels, seeds: &seeds)) }
        }
        self.resnets = resnets
        self.attentions = attentions
        downsampler = addDownsample ? Downsample(channels: outChannels, padding: config.downsamplePadding, seeds: &seeds) : nil
    }

    var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("resnets", resnets) + prefixed("attentions", attentions) + prefixed("downsamplers.0", downsampler)
    }

    func callAsFunction(_ x: Variable, activatedTime: Variable) -> (output: Variable, skips: [Variable]) {
        var h = x
        var skips: [Variable] = []
        for (i, resnet) in resnets.enumerated() {
            h = resnet(h, activatedTime: activatedTime)
            if !attentions.isEmpty { h = attentions[i](h) }
            skips.append(h)
        }
        if let downsampler {
            h = downsampler(h)
            skips.append(h)
        }
        return (h, skips)
    }
}

/// UpBlock2D / AttnUpBlock2D: each resnet takes the running features concatenated with the
/// latest unused skip connection (followed by attention in the Attn variant), then an optional
/// upsampler.
final class UpBlock: Module {
    let resnets: [ResnetBlock]
    let attentions: [AttentionBlock]
    let upsampler: Upsample?

    /// `inChannels`: the channels of the matching down block's input; `previousChannels`: of the
    /// features arriving from below. The last resnet's skip has `inChannels`, the others `outChannels`.
    init(inChannels: Int, previousChannels: Int, outChannels: Int, layers: Int, withAttention: Bool,
         addUpsample: Bool, config: UNetConfig, seeds: inout SeedSequence) {
        var resnets: [ResnetBlock] = [], attentions: [AttentionBlock] = []
        for i in 0..<layers {
            let skipChannels = i == layers - 1 ? inChannels : outChannels
            let inputChannels = i == 0 ? previousChannels : outChannels
            resnets.append(config.resnet(inputChannels + skipChannels, outChannels, seeds: &seeds))
            if withAttention { attentions.append(config.attention(outChannels, seeds: &seeds)) }
        }
        self.resnets = resnets
        self.attentions = attentions
        upsampler = addUpsample ? Upsample(channels: outChannels, seeds: &seeds) : nil
    }

    var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("resnets", resnets) + prefixed("attentions", attentions) + prefixed("upsamplers.0", upsampler)
    }

    /// Consumes skips from the end of `skips`.
    func callAsFunction(_ x: Variable, skips: inout [Variable], activatedTime: Variable) -> Variable {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            h = resnet(concatChannels([h, skips.removeLast()]), activatedTime: activatedTime)
            if !attentions.isEmpty { h = attentions[i](h) }
        }
        return upsampler?(h) ?? h
    }
}

/// UNetMidBlock2D: resnet, attention (unless disabled), resnet, at the lowest resolution.
final class MidBlock: Module {
    let resnets: [ResnetBlock]
    let attention: AttentionBlock?

    init(channels: Int, config: UNetConfig, seeds: inout SeedSequence) {
        let scale = Float(config.midBlockScaleFactor)
        let first = config.resnet(channels, channels, outputScaleFactor: scale, seeds: &seeds)
        attention = config.addAttention ? config.attention(channels, rescaleOutputFactor: scale, seeds: &seeds) : nil
        resnets = [first, config.resnet(channels, channels, outputScaleFactor: scale, seeds: &seeds)]
    }

    var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("resnets", resnets) + prefixed("attentions.0", attention)
    }

    func callAsFunction(_ x: Variable, activatedTime: Variable) -> Variable {
        var h = resnets[0](x, activatedTime: activatedTime)
        if let attention { h = attention(h) }
        return resnets[1](h, activatedTime: activatedTime)
    }
}

extension UNetConfig {
    /// A resnet block with this config's time embedding, norm groups and eps.
    func resnet(_ inChannels: Int, _ outChannels: Int, outputScaleFactor: Float = 1, seeds: inout SeedSequence) -> ResnetBlock {
        ResnetBlock(inChannels: inChannels, outChannels: outChannels, timeEmbeddingChannels: timeEmbeddingDim,
                    groups: normNumGroups, eps: Float(normEps), outputScaleFactor: outputScaleFactor, seeds: &seeds)
    }

    /// An attention block with this config's head size, norm groups and eps.
    func attention(_ channels: Int, rescaleOutputFactor: Float = 1, seeds: inout SeedSequence) -> AttentionBlock {
        AttentionBlock(channels: channels, headDim: attentionHeadDim, groups: normNumGroups, eps: Float(normEps),
                       rescaleOutputFactor: rescaleOutputFactor, seeds: &seeds)
    }
}
