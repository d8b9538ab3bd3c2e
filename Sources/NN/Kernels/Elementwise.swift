/// Elementwise arithmetic with broadcasting, and the reduction that undoes a broadcast in backward.

enum BinaryOperator {
    case add, subtract, multiply, divide

    @inline(__always)
    func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        }
    }
}

/// out = a (op) b, broadcasting a and b to a common shape.
func binaryForward(_ a: Tensor, _ b: Tensor, _ op: BinaryOperator) -> Tensor {
    guard let shape = BroadcastLayout.resultShape([a.shape, b.shape]) else {
        preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    var out = Tensor(uninitializedShape: shape)
    let pa = a.pointer, pb = b.pointer, po = out.mutablePointer()
    if a.shape == b.shape {
        parallelChunks(out.count) { range in
            for i in range { po[i] = op.apply(pa[i], pb[i]) }
        }
        return out
    }
    let layout = BroadcastLayout(result: shape, operands: [a.shape, b.shape, shape])
    layout.forEachRun { offsets, n in
        let sa = layout.strides[0].last!, sb = layout.strides[1].last!
        let ra = pa + offsets[0], rb = pb + offsets[1], ro = po + offsets[2]
        switch (sa, sb) {
        case (1, 1): for i in 0..<n { ro[i] = op.apply(ra[i], rb[i]) }
        case (1, 0): let s = rb[0]; for i in 0..<n { ro[i] = op.apply(ra[i], s) }
        case (0, 1): let s = ra[0]; for i in 0..<n { ro[i] = op.apply(s, rb[i]) }
        default: for i in 0..<n { ro[i] = op.apply(ra[i * sa], rb[i * sb]) }
        }
    }
    return out
}

/// out = scale * x + shift for scalars scale and shift.
func affineForward(_ x: Tensor, scale: Float, shift: Float) -> Tensor {
    var out = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, po = out.mutablePointer()
    parallelChunks(x.count) { range in
        for i in range { po[i] = scale * px[i] + shift }
    }
    return out
}

/// Sums `grad` over the dimensions along which a tensor of `shape` was broadcast to grad's
/// shape: the gradient of a broadcast operand.
func sumToShape(_ grad: Tensor, _ shape: [Int]) -> Tensor {
    if grad.shape == shape { return grad }
    var out = Tensor.zeros(shape)
    let layout = BroadcastLayout(result: grad.shape, operands: [grad.shape, shape])
    let pg = grad.pointer, po = out.mutablePointer()
    layout.forEachRun { offsets, n in
        let rg = pg + offsets[0], ro = po + offsets[1]
        if layout.strides[1].last! == 0 {
            var total: Float = 0
            for i in 0..<n { total += rg[i] }
            ro[0] += total
        } else {
            for i in 0..<n { ro[i] += rg[i] }
        }
    }
    return out
}

/// In place: a += b for tensors of equal size (gradient accumulation).
func addInPlace(_ a: inout Tensor, _ b: Tensor) {
    precondition(a.count == b.count, "cannot accumulate \(b.shape) into \(a.shape)")
    let pa = a.mutablePointer(), pb = b.pointer
    parallelChunks(a.count) { range in
        for i in range { pa[i] += pb[i] }
    }
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { binaryForward(a, b, .add) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binaryForward(a, b, .subtract) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binaryForward(a, b, .multiply) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binaryForward(a, b, .divide) }
    public static func * (a: Tensor, s: Float) -> Tensor { affineForward(a, scale: s, shift: 0) }
    public static func * (s: Float, a: Tensor) -> Tensor { affineForward(a, scale: s, shift: 0) }
    public static func + (a: Tensor, s: Float) -> Tensor { affineForward(a, scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { affineForward(a, scale: 1, shift: -s) }
    public static prefix func - (a: Tensor) -> Tensor { affineForward(a, scale: -1, shift: 0) }

    /// The sum of all elements, accumulated in Double.
    public func sum() -> Float {
        var total = 0.0
        let p = pointer
        for i in 0..<count { total += Double(p[i]) }
        return Float(total)
    }

    public func mean() -> Float { sum() / Float(Swift.max(count, 1)) }

    /// Sums over `axes`, keeping them as size-1 dimensions.
    public func sum(axes: [Int]) -> Tensor {
        var target = shape
        for axis in axes { target[axis] = 1 }
        return sumToShape(self, target)
    }
}

extension Tensor {
    /// a * x + b * y for tensors of equal shape, in one pass (the shape of a sampler step).
    public static func combination(_ a: Float, _ x: Tensor, _ b: Float, _ y: Tensor) -> Tensor {
        precondition(x.shape == y.shape, "shapes \(x.shape) and \(y.shape) differ")
        var out = Tensor(uninitializedShape: x.shape)
        let px = x.pointer, py = y.pointer, po = out.mutablePointer()
        parallelChunks(x.count) { range in
            for i in range { po[i] = a * px[i] + b * py[i] }
        }
        return out
    }

    /// Every element limited to lower...upper.
    public func clamped(_ lower: Float, _ upper: Float) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        let px = pointer, po = out.mutablePointer()
        parallelChunks(count) { range in
            for i in range { po[i] = Swift.min(Swift.max(px[i], lower), upper) }
        }
        return out
    }
}
