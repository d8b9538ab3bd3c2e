/// Global average pooling: the mean of each channel's plane, (N, C, H, W) -> (N, C).
func globalAveragePoolForward(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "global average pool: expected NCHW, got \(x.shape)")
    let planes = x.shape[0] * x.shape[1], area = x.shape[2] * x.shape[3]
    var out = Tensor(uninitializedShape: [x.shape[0], x.shape[1]])
    let px = x.pointer, po = out.mutablePointer()
    parallelChunks(planes, grain: max(1, 16_384 / max(area, 1))) { range in
        for plane in range {
            var total: Float = 0
            for i in 0..<area { total += px[plane * area + i] }
            po[plane] = total / Float(area)
        }
    }
    return out
}

/// Each plane's gradient is its mean's gradient spread evenly: gradOut (N, C) -> (N, C, H, W).
func globalAveragePoolBackward(gradOut: Tensor, inputShape: [Int]) -> Tensor {
    let area = inputShape[2] * inputShape[3]
    var gx = Tensor(uninitializedShape: inputShape)
    let pg = gradOut.pointer, po = gx.mutablePointer()
    parallelChunks(gradOut.count, grain: max(1, 16_384 / max(area, 1))) { range in
        for plane in range {
            let value = pg[plane] / Float(area)
            (po + plane * area).update(repeating: value, count: area)
        }
    }
    return gx
}

// Windowed pooling for inference (feature networks such as Inception): no gradient.

/// The output side of a `kernel`-wide window moved by `stride` over `size` + 2 `padding`
/// (floor mode, as PyTorch's default).
private func pooledSize(_ size: Int, kernel: Int, stride: Int, padding: Int) -> Int {
    (size + 2 * padding - kernel) / stride + 1
}

/// Max pooling, (N, C, H, W) -> (N, C, Ho, Wo), as PyTorch's max_pool2d: padding never wins
/// (it acts as -infinity). Inference only.
public func maxPool2d(_ x: Tensor, kernel: Int, stride: Int, padding: Int = 0) -> Tensor {
    windowPool(x, kernel: kernel, stride: stride, padding: padding) { plane, width, rows, columns in
        var best = -Float.infinity
        for r in rows { for c in columns { best = max(best, plane[r * width + c]) } }
        return best
    }
}

/// Average pooling over the window's pixels inside the image only, as PyTorch's avg_pool2d
/// with count_include_pad=False (pytorch-fid's FID Inception blocks). Inference only.
public func averagePool2d(_ x: Tensor, kernel: Int, stride: Int, padding: Int = 0) -> Tensor {
    windowPool(x, kernel: kernel, stride: stride, padding: padding) { plane, width, rows, columns in
        var total: Float = 0
        for r in rows { for c in columns { total += plane[r * width + c] } }
        return total / Float(rows.count * columns.count)
    }
}

/// Applies `reduce(plane, width, rows, columns)` to each window, clipped to the image.
private func windowPool(_ x: Tensor, kernel: Int, stride: Int, padding: Int,
                        _ reduce: (UnsafePointer<Float>, Int, Range<Int>, Range<Int>) -> Float) -> Tensor {
    precondition(x.rank == 4 && kernel >= 1 && stride >= 1 && padding >= 0 && padding * 2 <= kernel,
                 "pool: input \(x.shape), kernel \(kernel), stride \(stride), padding \(padding)")
    let (planes, height, width) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    let outHeight = pooledSize(height, kernel: kernel, stride: stride, padding: padding)
    let outWidth = pooledSize(width, kernel: kernel, stride: stride, padding: padding)
    precondition(outHeight > 0 && outWidth > 0, "pool: window larger than the padded input \(x.shape)")
    var out = Tensor(uninitializedShape: [x.shape[0], x.shape[1], outHeight, outWidth])
    let px = x.pointer, po = out.mutablePointer()
    parallelChunks(planes, grain: 1) { range in
        for plane in range {
            let source = px + plane * height * width, target = po + plane * outHeight * outWidth
            for oy in 0..<outHeight {
                let top = oy * stride - padding
                let rows = max(0, top)..<min(height, top + kernel)
                for ox in 0..<outWidth {
                    let left = ox * stride - padding
                    target[oy * outWidth + ox] = reduce(source, width, rows, max(0, left)..<min(width, left + kernel))
                }
            }
        }
    }
    return out
}
