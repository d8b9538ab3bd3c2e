import Foundation
import Kernels

/// SiLU, x * sigmoid(x), elementwise (C: Sources/Kernels/group_norm.h).
func siluForward(_ x: Tensor, level: SIMDLevel = .native) -> Tensor {
    var out = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, po = out.mutablePointer(), forward = level.kernels.silu_forward!
    parallelChunks(x.count) { range in forward(px + range.lowerBound, po + range.lowerBound, range.count) }
    return out
}

/// d silu / dx = s (1 + x (1 - s)) with s = sigmoid(x).
func siluBackward(_ x: Tensor, gradOut: Tensor, level: SIMDLevel = .native) -> Tensor {
    var gx = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, pg = gradOut.pointer, po = gx.mutablePointer(), backward = level.kernels.silu_backward!
    parallelChunks(x.count) { range in
        backward(px + range.lowerBound, pg + range.lowerBound, po + range.lowerBound, range.count)
    }
    return gx
}

/// Softmax over the last dimension of x (rows of length shape.last).
func softmaxForward(_ x: Tensor, level: SIMDLevel = .native) -> Tensor {
    let width = x.shape.last ?? 1, rows = x.count / max(width, 1)
    var out = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, po = out.mutablePointer(), softmax = level.kernels.softmax_rows!
    parallelChunks(rows, grain: max(1, 8192 / max(width, 1))) { range in
        softmax(px + range.lowerBound * width, po + range.lowerBound * width, range.count, width)
    }
    return out
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
