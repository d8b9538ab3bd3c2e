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
