import Kernels

import Foundation

/// Group normalization (Wu & He 2018), as PyTorch's group_norm.
///
/// Shapes: x (N, C, *) with C divisible by `groups`; weight, bias (C); out like x. The statistics
/// of each (image, group) pair, mean and 1/sqrt(var + eps) with the biased variance, are kept
/// for the backward pass: mean and rstd (N * groups).
struct GroupNormStatistics {
    var mean: [Float]
    var rstd: [Float]
}

private struct GroupNormGeometry {
    let batch, channels, groups, pixels: Int
    init(_ shape: [Int], groups: Int) {
        precondition(shape.count >= 2 && groups > 0 && shape[1] % groups == 0,
                     "group norm: \(shape[1 < shape.count ? 1 : 0]) channels do not split into \(groups) groups")
        (batch, channels, self.groups) = (shape[0], shape[1], groups)
        pixels = shape.dropFirst(2).reduce(1, *)
    }
    var channelsPerGroup: Int { channels / groups }
    /// Elements of one (image, group) pair, which are contiguous in NCHW.
    var groupSize: Int { channelsPerGroup * pixels }
}

/// Forward group norm; with `silu`, returns silu(group norm(x)) in the same pass (the U-Net's
/// norm-then-activate pairs), which saves a pass over memory and the normalized tensor. The
/// loops are C (Sources/Kernels/group_norm.h) at the CPU's instruction-set level.
func groupNormForward(_ x: Tensor, weight: Tensor, bias: Tensor, groups: Int, eps: Float, silu: Bool = false,
                      level: SIMDLevel = .native) -> (out: Tensor, statistics: GroupNormStatistics) {
    let g = GroupNormGeometry(x.shape, groups: groups)
    var out = Tensor(uninitializedShape: x.shape)
    var mean = [Float](repeating: 0, count: g.batch * groups)
    var rstd = [Float](repeating: 0, count: g.batch * groups)
    let px = x.pointer, po = out.mutablePointer(), pw = weight.pointer, pb = bias.pointer
    let forward = level.kernels.group_norm_forward!
    mean.withUnsafeMutableBufferPointer { pm in
        rstd.withUnsafeMutableBufferPointer { pr in
            parallelChunks(g.batch * groups, grain: max(1, 16_384 / g.groupSize)) { range in
                forward(px, pw, pb, po, pm.baseAddress!, pr.baseAddress!, range.lowerBound, range.count, groups,
                        g.channelsPerGroup, g.pixels, eps, silu ? 1 : 0)
            }
        }
    }
    return (out, GroupNormStatistics(mean: mean, rstd: rstd))
}

/// Backward group norm: returns the gradients of x, weight and bias. With `siluBias` (the bias
/// of a forward pass with `silu`), `gradOut` is the gradient of the SiLU's output.
///
/// Two passes over each (image, group) in C: the first takes dy (through the SiLU when fused) and
/// each row's sums of dy x̂ and dy, which give both the weight and bias gradients (summed over
/// images here) and the group's means of dx̂ = dy w and dx̂ x̂; the second writes
/// dx = rstd (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂)).
func groupNormBackward(_ x: Tensor, weight: Tensor, gradOut: Tensor, groups: Int, statistics: GroupNormStatistics,
                       siluBias: Tensor? = nil, level: SIMDLevel = .native) -> (x: Tensor, weight: Tensor, bias: Tensor) {
    let g = GroupNormGeometry(x.shape, groups: groups)
    var gx = Tensor(uninitializedShape: x.shape)
    // with the SiLU, dy is computed in the first pass and kept here for the second
    var throughSiLU = siluBias.map { _ in Tensor(uninitializedShape: x.shape) }
    // per (image, channel): sum of dy x̂, then sum of dy
    var rowSums = [Double](repeating: 0, count: 2 * g.batch * g.channels)
    let px = x.pointer, pgo = gradOut.pointer, pw = weight.pointer, pb = siluBias?.pointer
    let pgx = gx.mutablePointer(), psilu = throughSiLU?.mutablePointer()
    let backward = level.kernels.group_norm_backward!
    rowSums.withUnsafeMutableBufferPointer { sums in
        statistics.mean.withUnsafeBufferPointer { pm in
            statistics.rstd.withUnsafeBufferPointer { pr in
                parallelChunks(g.batch * groups, grain: max(1, 16_384 / g.groupSize)) { range in
                    backward(px, pw, pgo, pm.baseAddress!, pr.baseAddress!, pb, psilu, pgx, sums.baseAddress!,
                             range.lowerBound, range.count, groups, g.channelsPerGroup, g.pixels)
                }
            }
        }
    }
    var gw = Tensor(uninitializedShape: [g.channels]), gb = Tensor(uninitializedShape: [g.channels])
    let pgw = gw.mutablePointer(), pgb = gb.mutablePointer()
    for c in 0..<g.channels {
        var dw = 0.0, db = 0.0
        for n in 0..<g.batch {
            dw += rowSums[2 * (n * g.channels + c)]
            db += rowSums[2 * (n * g.channels + c) + 1]
        }
        (pgw[c], pgb[c]) = (Float(dw), Float(db))
    }
    withExtendedLifetime(throughSiLU) {}
    return (gx, gw, gb)
}
