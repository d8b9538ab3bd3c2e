/// Nearest-neighbour 2x upsampling and channel concatenation, NCHW.

/// out (N, C, 2H, 2W): every pixel of x (N, C, H, W) repeated in a 2x2 block.
func upsampleNearest2xForward(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "upsample: expected NCHW, got \(x.shape)")
    let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    var out = Tensor(uninitializedShape: [x.shape[0], x.shape[1], 2 * h, 2 * w])
    let px = x.pointer, po = out.mutablePointer()
    parallelChunks(planes * h, grain: max(1, 4096 / w)) { rows in
        for row in rows {
            let src = px + row * w, dst = po + row * 4 * w
            for j in 0..<w { dst[2 * j] = src[j]; dst[2 * j + 1] = src[j] }
            (dst + 2 * w).update(from: dst, count: 2 * w)
        }
    }
    return out
}

/// The gradient of x: each pixel collects its 2x2 block of gradOut (N, C, 2H, 2W).
func upsampleNearest2xBackward(gradOut: Tensor) -> Tensor {
    let (n, c, h, w) = (gradOut.shape[0], gradOut.shape[1], gradOut.shape[2] / 2, gradOut.shape[3] / 2)
    var gx = Tensor(uninitializedShape: [n, c, h, w])
    let pg = gradOut.pointer, po = gx.mutablePointer()
    parallelChunks(n * c * h, grain: max(1, 4096 / w)) { rows in
        for row in rows {
            let top = pg + row * 4 * w, bottom = top + 2 * w, dst = po + row * w
            for j in 0..<w { dst[j] = top[2 * j] + top[2 * j + 1] + bottom[2 * j] + bottom[2 * j + 1] }
        }
    }
    return gx
}

/// Concatenates tensors that agree in every dimension but 1 (channels) along dimension 1.
func concatChannels(_ parts: [Tensor]) -> Tensor {
    precondition(!parts.isEmpty, "concat of nothing")
    var shape = parts[0].shape
    for part in parts.dropFirst() {
        precondition(part.rank == shape.count && part.shape[0] == shape[0] && Array(part.shape.dropFirst(2)) == Array(shape.dropFirst(2)),
                     "concat: \(part.shape) does not match \(shape)")
    }
    shape[1] = parts.reduce(0) { $0 + $1.shape[1] }
    var out = Tensor(uninitializedShape: shape)
    let po = out.mutablePointer()
    let batch = shape[0], outImage = out.count / max(batch, 1)
    var start = 0
    for part in parts {
        let image = part.count / max(batch, 1)
        for n in 0..<batch { (po + n * outImage + start).update(from: part.pointer + n * image, count: image) }
        start += image
    }
    return out
}

/// The inverse of concatChannels: the slices of x along dimension 1 with the given sizes.
func splitChannels(_ x: Tensor, sizes: [Int]) -> [Tensor] {
    let batch = x.shape[0], inner = x.shape.dropFirst(2).reduce(1, *), image = x.count / max(batch, 1)
    var start = 0
    return sizes.map { channels in
        var shape = x.shape
        shape[1] = channels
        var part = Tensor(uninitializedShape: shape)
        let pp = part.mutablePointer(), length = channels * inner
        for n in 0..<batch { (pp + n * length).update(from: x.pointer + n * image + start, count: length) }
        start += length
        return part
    }
}

/// Bilinear resizing of (N, C, H, W) to (N, C, height, width) as PyTorch's
/// F.interpolate(mode="bilinear", align_corners=False) without antialiasing: output pixel o
/// reads the input at (o + 0.5) in / out - 0.5, clamped at 0, between its two neighbours.
/// Inference only (pytorch-fid resizes to Inception's 299 this way).
public func resizeBilinear(_ x: Tensor, height outHeight: Int, width outWidth: Int) -> Tensor {
    precondition(x.rank == 4 && outHeight > 0 && outWidth > 0, "resizeBilinear: \(x.shape) to \(outHeight)x\(outWidth)")
    let (planes, height, width) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    /// For each output index: the lower source index, whether there is an upper one, and the upper weight.
    func taps(_ inSize: Int, _ outSize: Int) -> [(index: Int, next: Int, weight: Float)] {
        let scale = Float(inSize) / Float(outSize)
        return (0..<outSize).map { o in
            let source = max(0, scale * (Float(o) + 0.5) - 0.5)
            let index = min(Int(source), inSize - 1)
            return (index, index < inSize - 1 ? 1 : 0, source - Float(index))
        }
    }
    let rows = taps(height, outHeight), columns = taps(width, outWidth)
    var out = Tensor(uninitializedShape: [x.shape[0], x.shape[1], outHeight, outWidth])
    let px = x.pointer, po = out.mutablePointer()
    parallelChunks(planes, grain: 1) { range in
        for plane in range {
            let source = px + plane * height * width, target = po + plane * outHeight * outWidth
            for (oy, row) in rows.enumerated() {
                let upper = source + row.index * width, lower = upper + row.next * width
                for (ox, column) in columns.enumerated() {
                    let top = (1 - column.weight) * upper[column.index] + column.weight * upper[column.index + column.next]
                    let bottom = (1 - column.weight) * lower[column.index] + column.weight * lower[column.index + column.next]
                    target[oy * outWidth + ox] = (1 - row.weight) * top + row.weight * bottom
                }
            }
        }
    }
    return out
}
