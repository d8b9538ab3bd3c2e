/// Zero padding of NCHW feature maps (as torch.nn.functional.pad with a 4-tuple), and the crop
/// that is its backward.

/// x (N, C, H, W) -> (N, C, top + H + bottom, left + W + right), the new border zero.
func zeroPadForward(_ x: Tensor, left: Int, right: Int, top: Int, bottom: Int) -> Tensor {
    precondition(x.rank == 4 && min(left, right, top, bottom) >= 0, "pad: \(x.shape) by \((left, right, top, bottom))")
    let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    let (outH, outW) = (top + h + bottom, left + w + right)
    var out = Tensor.zeros([x.shape[0], x.shape[1], outH, outW])
    let px = x.pointer, po = out.mutablePointer()
    for plane in 0..<planes {
        for row in 0..<h {
            (po + (plane * outH + top + row) * outW + left).update(from: px + (plane * h + row) * w, count: w)
        }
    }
    return out
}

/// The gradient of x: the interior of gradOut.
func zeroPadBackward(gradOut: Tensor, left: Int, right: Int, top: Int, bottom: Int) -> Tensor {
    let (n, c, outH, outW) = (gradOut.shape[0], gradOut.shape[1], gradOut.shape[2], gradOut.shape[3])
    let (h, w) = (outH - top - bottom, outW - left - right)
    var gx = Tensor(uninitializedShape: [n, c, h, w])
    let pg = gradOut.pointer, po = gx.mutablePointer()
    for plane in 0..<(n * c) {
        for row in 0..<h {
            (po + (plane * h + row) * w).update(from: pg + (plane * outH + top + row) * outW + left, count: w)
        }
    }
    return gx
}
