import NN

/// diffusers' `ResnetBlock2D` with the default time-embedding handling ("default" scale-shift):
///
///     h = conv1(silu(norm1(x))) + time_emb_proj(silu(temb))[:, :, None, None]
///     h = conv2(silu(norm2(h)))
///     out = (shortcut(x) + h) / outputScaleFactor
///
/// where shortcut is a 1x1 conv when the channel count changes, else the identity.
final class ResnetBlock: Module {
    let norm1: GroupNorm
    let conv1: Conv2d
    let timeEmbeddingProjection: Linear
    let norm2: GroupNorm
    let conv2: Conv2d
    let convShortcut: Conv2d?
    let outputScaleFactor: Float

    init(inChannels: Int, outChannels: Int, timeEmbeddingChannels: Int, groups: Int, eps: Float,
         outputScaleFactor: Float = 1, seeds: inout SeedSequence) {
        norm1 = GroupNorm(groups: groups, channels: inChannels, eps: eps)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, seeds: &seeds)
        timeEmbeddingProjection = Linear(timeEmbeddingChannels, outChannels, seeds: &seeds)
        norm2 = GroupNorm(groups: groups, channels: outChannels, eps: eps)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, seeds: &seeds)
        convShortcut = inChannels == outChannels ? nil : Conv2d(inChannels, outChannels, kernelSize: 1, seeds: &seeds)
        self.outputScaleFactor = outputScaleFactor
    }

    var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("norm1", norm1) + prefixed("conv1", conv1) + prefixed("time_emb_proj", timeEmbeddingProjection)
            + prefixed("norm2", norm2) + prefixed("conv2", conv2) + prefixed("conv_shortcut", convShortcut)
    }

    /// `activatedTime` is silu(temb), (N, timeEmbeddingChannels): the same for every block, so
    /// the U-Net computes it once.
    func callAsFunction(_ x: Variable, activatedTime: Variable) -> Variable {
        var h = conv1(norm1.activated(x))
        let time = timeEmbeddingProjection(activatedTime)
        h = h + time.reshaped([time.shape[0], time.shape[1], 1, 1])
        h = conv2(norm2.activated(h))
        let out = (convShortcut?(x) ?? x) + h
        return outputScaleFactor == 1 ? out : out * (1 / outputScaleFactor)
    }
}
