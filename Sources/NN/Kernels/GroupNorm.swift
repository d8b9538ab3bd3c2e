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
/// norm-then-activate pairs), which saves a pass over memory and the normalized tensor.
func groupNormForward(_ x: Tensor, weight: Tensor, bias: Tensor, groups: Int, eps: Float, silu: Bool = false)
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
                        if silu {
                            siluOfAffine(px + row, scale: scale, shift: shift, count: g.pixels, into: po + row)
                        } else {
                            for p in 0..<g.pixels { po[row + p] = px[row + p] * scale + shift }
                        }
                    }
                }
            }
        }
    }
    return (out, GroupNormStatistics(mean: mean, rstd: rstd))
}

/// silu(x * scale + shift) for `count` elements.
@inline(__always)
private func siluOfAffine(_ x: UnsafePointer<Float>, scale: Float, shift: Float, count: Int, into out: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 8 <= count {
        let y = load8(x + i) * scale + shift
        store8(y * sigmoid(y), out + i)
        i += 8
    }
    for j in i..<count {
        let y = x[j] * scale + shift
        out[j] = y * sigmoid(y)
    }
}

/// The gradient reaching the group norm's output through the SiLU of `groupNormForward(silu:)`:
/// gradOut * silu'(y), with the normalized y recomputed from x and the statistics.
private func gradientThroughSiLU(_ x: Tensor, weight: Tensor, bias: Tensor, gradOut: Tensor,
                                 _ g: GroupNormGeometry, statistics: GroupNormStatistics) -> Tensor {
    var gy = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, pw = weight.pointer, pb = bias.pointer, pgo = gradOut.pointer, pgy = gy.mutablePointer()
    statistics.mean.withUnsafeBufferPointer { pm in
        statistics.rstd.withUnsafeBufferPointer { pr in
            parallelChunks(g.batch * g.channels, grain: max(1, 16_384 / g.pixels)) { range in
                for nc in range {
                    let ng = nc / g.channelsPerGroup, c = nc % g.channels
                    let scale = pr[ng] * pw[c], shift = pb[c] - pm[ng] * scale
                    let row = nc * g.pixels
                    var p = 0
                    while p + 8 <= g.pixels {
                        let y = load8(px + row + p) * scale + shift, s = sigmoid(y)
                        store8(load8(pgo + row + p) * s * (1 + y * (1 - s)), pgy + row + p)
                        p += 8
                    }
                    for q in p..<g.pixels {
                        let y = px[row + q] * scale + shift, s = sigmoid(y)
                        pgy[row + q] = pgo[row + q] * s * (1 + y * (1 - s))
                    }
                }
            }
        }
    }
    return gy
}

/// Backward group norm: returns the gradients of x, weight and bias. With `siluBias` (the bias
/// of a forward pass with `silu`), `gradOut` is the gradient of the SiLU's output.
func groupNormBackward(_ x: Tensor, weight: Tensor, gradOut: Tensor, groups: Int,
                       statistics: GroupNormStatistics, siluBias: Tensor? = nil) -> (x: Tensor, weight: Tensor, bias: Tensor) {
    let g = GroupNormGeometry(x.shape, groups: groups)
    let gradOut = siluBias.map { gradientThroughSiLU(x, weight: weight, bias: $0, gradOut: gradOut, g, statistics: statistics) } ?? gradOut
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
