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

/// gradOut * silu'(y) for one (image, channel) row, y = x * scale + shift recomputed: the
/// gradient reaching the group norm's output through the SiLU of `groupNormForward(silu:)`.
@inline(__always)
private func gradientThroughSiLU(_ x: UnsafePointer<Float>, _ gradOut: UnsafePointer<Float>, scale: Float, shift: Float,
                                 count: Int, into out: UnsafeMutablePointer<Float>) {
    var p = 0
    while p + 8 <= count {
        let y = load8(x + p) * scale + shift, s = sigmoid(y)
        store8(load8(gradOut + p) * s * (1 + y * (1 - s)), out + p)
        p += 8
    }
    for q in p..<count {
        let y = x[q] * scale + shift, s = sigmoid(y)
        out[q] = gradOut[q] * s * (1 + y * (1 - s))
    }
}

/// Backward group norm: returns the gradients of x, weight and bias. With `siluBias` (the bias
/// of a forward pass with `silu`), `gradOut` is the gradient of the SiLU's output.
///
/// Two passes over each (image, group): the first takes dy (through the SiLU when fused) and
/// each row's sums of dy x̂ and dy, which give both the weight and bias gradients (summed over
/// images afterwards) and the group's means of dx̂ = dy w and dx̂ x̂; the second writes
/// dx = rstd (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂)).
func groupNormBackward(_ x: Tensor, weight: Tensor, gradOut: Tensor, groups: Int,
                       statistics: GroupNormStatistics, siluBias: Tensor? = nil) -> (x: Tensor, weight: Tensor, bias: Tensor) {
    let g = GroupNormGeometry(x.shape, groups: groups)
    var gx = Tensor(uninitializedShape: x.shape)
    // with the SiLU, dy is computed in the first pass and kept here for the second
    var throughSiLU = siluBias.map { _ in Tensor(uninitializedShape: x.shape) }
    // per (image, channel): sum of dy x̂, then sum of dy
    var rowSums = [Double](repeating: 0, count: 2 * g.batch * g.channels)
    let px = x.pointer, pgo = gradOut.pointer, pw = weight.pointer, pb = siluBias?.pointer
    let pgx = gx.mutablePointer(), psilu = throughSiLU?.mutablePointer()
    rowSums.withUnsafeMutableBufferPointer { sums in
        statistics.mean.withUnsafeBufferPointer { pm in
            statistics.rstd.withUnsafeBufferPointer { pr in
                parallelChunks(g.batch * groups, grain: max(1, 16_384 / g.groupSize)) { range in
                    for ng in range {
                        let base = ng * g.groupSize, m = pm[ng], r = pr[ng]
                        let firstChannel = (ng % groups) * g.channelsPerGroup
                        let dy = psilu.map { UnsafePointer($0) } ?? pgo
                        var sumD = 0.0, sumDX = 0.0
                        for cg in 0..<g.channelsPerGroup {
                            let c = firstChannel + cg, row = base + cg * g.pixels, w = pw[c]
                            if let psilu, let pb {
                                let scale = r * w
                                gradientThroughSiLU(px + row, pgo + row, scale: scale, shift: pb[c] - m * scale,
                                                    count: g.pixels, into: psilu + row)
                            }
                            let (rowW, rowB) = sumOfTermPairs(g.pixels) { p in
                                let d = load8(dy + row + p)
                                return (d * ((load8(px + row + p) - m) * r), d)
                            } scalar: { p in (dy[row + p] * ((px[row + p] - m) * r), dy[row + p]) }
                            let slot = 2 * (ng / groups * g.channels + c)
                            (sums[slot], sums[slot + 1]) = (rowW, rowB)
                            sumD += Double(w) * rowB
                            sumDX += Double(w) * rowW
                        }
                        let meanD = Float(sumD / Double(g.groupSize)), meanDX = Float(sumDX / Double(g.groupSize))
                        for cg in 0..<g.channelsPerGroup {
                            let w = pw[firstChannel + cg], row = base + cg * g.pixels
                            for p in 0..<g.pixels {
                                let xhat = (px[row + p] - m) * r
                                pgx[row + p] = r * (dy[row + p] * w - meanD - xhat * meanDX)
                            }
                        }
                    }
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
