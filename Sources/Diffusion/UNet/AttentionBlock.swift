import NN

/// diffusers' spatial self-attention block (`Attention` with a group norm and a residual, as
/// UNet2DModel's attention blocks build it): the pixels of a feature map attend to each other.
///
///     h = group_norm(x) viewed as (N, HW, C)
///     h = to_out.0(attention(to_q(h), to_k(h), to_v(h)))    heads of `headDim` channels
///     out = (h viewed as (N, C, H, W) + x) / rescaleOutputFactor
final class AttentionBlock: Module {
    let groupNorm: GroupNorm
    let toQuery: Linear, toKey: Linear, toValue: Linear, toOut: Linear
    let heads: Int
    let rescaleOutputFactor: Float

    init(channels: Int, headDim: Int?, groups: Int, eps: Float, rescaleOutputFactor: Float = 1,
         seeds: inout SeedSequence) {
        groupNorm = GroupNorm(groups: groups, channels: channels, eps: eps)
        toQuery = Linear(channels, channels, seeds: &seeds)
        toKey = Linear(channels, channels, seeds: &seeds)
        toValue = Linear(channels, channels, seeds: &seeds)
        toOut = Linear(channels, channels, seeds: &seeds)
        heads = headDim.map { channels / $0 } ?? 1
        self.rescaleOutputFactor = rescaleOutputFactor
    }

    var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("group_norm", groupNorm) + prefixed("to_q", toQuery) + prefixed("to_k", toKey)
            + prefixed("to_v", toValue) + prefixed("to_out.0", toOut)
    }

    func callAsFunction(_ x: Variable) -> Variable {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = groupNorm(x).reshaped([n, c, h * w]).permuted([0, 2, 1])
        let attended = attention(query: toQuery(tokens), key: toKey(tokens), value: toValue(tokens), heads: heads)
        let out = toOut(attended).permuted([0, 2, 1]).reshaped([n, c, h, w]) + x
        return rescaleOutputFactor == 1 ? out : out * (1 / rescaleOutputFactor)
    }
}
