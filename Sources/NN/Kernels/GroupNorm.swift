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

func groupNormForward(_ x: Tensor, weight: Tensor, bias: Tensor, groups: Int, eps: Float)
    -> (out: Tensor, statistics: GroupNormStatistics) {
    let g = GroupNormGeometry(x.shape, groups: groups)
    var out = Tensor(uninitializedShape: x.shape)
    var mean = [Float](repeating: 0, count: g.batch * groups)
    var rstd = [Float](repeating: 0, count: g.batch * groups)
    let px = x.pointer, po = out.mutablePointer(), pw = weight.pointer, pb = bias.pointer
    mean.withUnsafeMutableBufferPointer { pm in
        rstd.withUnsafeMutableBufferPointer { pr in
            parallelChunks(g.batch * groups, grain: max(1, 16_384 / g.groupSize)) { range in
                for ng in range {
                    let base = ng * g.groupSize
                    // Two passes (mean, then squared deviations) keep the variance accurate.
                    let group = px + base
                    let m = Float(sum(group, count: g.groupSize) / Double(g.groupSize))
                    let squares = sumOfTerms(g.groupSize) { i in
                        let d = load8(group + i) - m
                        return d * d
                    } scalar: { i in (group[i] - m) * (group[i] - m) }
                    let r = 1 / (squares / Double(g.groupSize) + Double(eps)).squareRoot()
                    pm[ng] = m
                    pr[ng] = Float(r)
                    for cg in 0..<g.channelsPerGroup {
                        let c = (ng % groups) * g.channelsPerGroup + cg
                        let scale = Float(r) * pw[c], shift = pb[c] - m * scale
                        let row = base + cg * g.pixels
                        for p in 0..<g.pixels { po[row + p] = px[row + p] * scale + shift }
                    }
                }
            }
        }
    }
    return (out, GroupNormStatistics(mean: mean, rstd: rstd))
}

/// Backward group norm: returns the gradients of x, weight and bias.
func groupNormBackward(_ x: Tensor, weight: Tensor, gradOut: Tensor, groups: Int,
                       statistics: GroupNormStatistics) -> (x: Tensor, weight: Tensor, bias: Tensor) {
    let g = GroupNormGeometry(x.shape, groups: groups)
    var gx = Tensor(uninitializedShape: x.shape)
    var gw = Tensor.zeros([g.channels]), gb = Tensor.zeros([g.channels])
    let px = x.pointer, pgo = gradOut.pointer, pw = weight.pointer
    let pgx = gx.mutablePointer(), pgw = gw.mutablePointer(), pgb = gb.mutablePointer()
    statistics.mean.withUnsafeBufferPointer { pm in
        statistics.rstd.withUnsafeBufferPointer { pr in
            // Weight and bias gradients: per channel, summed over images and pixels.
            parallelChunks(g.channels, grain: max(1, 16_384 / (g.batch * g.pixels))) { range in
                for c in range {
                    var dw = 0.0, db = 0.0
                    for n in 0..<g.batch {
                        let ng = n * groups + c / g.channelsPerGroup
                        let row = (n * g.channels + c) * g.pixels
                        let (m, r) = (pm[ng], pr[ng])
                        let (rowW, rowB) = sumOfTermPairs(g.pixels) { p in
                            let dy = load8(pgo + row + p)
                            return (dy * ((load8(px + row + p) - m) * r), dy)
                        } scalar: { p in (pgo[row + p] * ((px[row + p] - m) * r), pgo[row + p]) }
                        dw += rowW
                        db += rowB
                    }
                    pgw[c] = Float(dw)
                    pgb[c] = Float(db)
                }
            }
            // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * w[c],
            // means over the (image, group) elements.
            parallelChunks(g.batch * groups, grain: max(1, 16_384 / g.groupSize)) { range in
                for ng in range {
                    let base = ng * g.groupSize, m = pm[ng], r = pr[ng]
                    var sumD = 0.0, sumDX = 0.0
                    for cg in 0..<g.channelsPerGroup {
                        let w = pw[(ng % groups) * g.channelsPerGroup + cg]
                        let row = base + cg * g.pixels
                        let (rowD, rowDX) = sumOfTermPairs(g.pixels) { p in
                            let d = load8(pgo + row + p) * w
                            return (d, d * ((load8(px + row + p) - m) * r))
                        } scalar: { p in
                            let d = pgo[row + p] * w
                            return (d, d * ((px[row + p] - m) * r))
                        }
                        sumD += rowD
                        sumDX += rowDX
                    }
                    let meanD = Float(sumD / Double(g.groupSize)), meanDX = Float(sumDX / Double(g.groupSize))
                    for cg in 0..<g.channelsPerGroup {
                        let w = pw[(ng % groups) * g.channelsPerGroup + cg]
                        let row = base + cg * g.pixels
                        for p in 0..<g.pixels {
                            let xhat = (px[row + p] - m) * r
                            pgx[row + p] = r * (pgo[row + p] * w - meanD - xhat * meanDX)
                        }
                    }
                }
            }
        }
    }
    return (gx, gw, gb)
}
