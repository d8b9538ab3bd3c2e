import Foundation

/// SiLU, x * sigmoid(x), elementwise.
func siluForward(_ x: Tensor) -> Tensor {
    var out = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, po = out.mutablePointer()
    parallelChunks(x.count) { range in
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let v = load8(px + i)
            store8(v * sigmoid(v), po + i)
            i += 8
        }
        for j in i..<range.upperBound { po[j] = px[j] * sigmoid(px[j]) }
    }
    return out
}

/// d silu / dx = s (1 + x (1 - s)) with s = sigmoid(x).
func siluBackward(_ x: Tensor, gradOut: Tensor) -> Tensor {
    var gx = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, pg = gradOut.pointer, po = gx.mutablePointer()
    parallelChunks(x.count) { range in
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let v = load8(px + i), s = sigmoid(v)
            store8(load8(pg + i) * s * (1 + v * (1 - s)), po + i)
            i += 8
        }
        for j in i..<range.upperBound {
            let s = sigmoid(px[j])
            po[j] = pg[j] * s * (1 + px[j] * (1 - s))
        }
    }
    return gx
}

/// Softmax over the last dimension of x (rows of length shape.last).
func softmaxForward(_ x: Tensor) -> Tensor {
    let width = x.shape.last ?? 1
    var out = Tensor(uninitializedShape: x.shape)
    softmaxRows(x.pointer, out.mutablePointer(), rows: x.count / max(width, 1), width: width)
    return out
}

/// Row-wise softmax of a (rows, width) matrix; `input` and `output` may be the same buffer.
func softmaxRows(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    parallelChunks(rows, grain: max(1, 8192 / max(width, 1))) { range in
        for r in range {
            let src = input + r * width, dst = output + r * width
            var largest = -Float.infinity
            for i in 0..<width { largest = max(largest, src[i]) }
            var total: Float = 0
            for i in 0..<width { let e = Foundation.exp(src[i] - largest); dst[i] = e; total += e }
            let inverse = 1 / total
            for i in 0..<width { dst[i] *= inverse }
        }
    }
}

/// Softmax backward from its output y: dx = y (dy - sum(dy y)) per row; in place allowed.
func softmaxBackwardRows(_ y: UnsafePointer<Float>, _ gradOut: UnsafePointer<Float>,
                         _ gradIn: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
    parallelChunks(rows, grain: max(1, 8192 / max(width, 1))) { range in
        for r in range {
            let py = y + r * width, pg = gradOut + r * width, po = gradIn + r * width
            var dot: Float = 0
            for i in 0..<width { dot += py[i] * pg[i] }
            for i in 0..<width { po[i] = py[i] * (pg[i] - dot) }
        }
    }
}

func softmaxBackward(_ y: Tensor, gradOut: Tensor) -> Tensor {
    let width = y.shape.last ?? 1
    var gx = Tensor(uninitializedShape: y.shape)
    softmaxBackwardRows(y.pointer, gradOut.pointer, gx.mutablePointer(), rows: y.count / max(width, 1), width: width)
    return gx
}
