/// Differentiable ops on variables. Each forward calls a kernel; its backward calls the kernel's
/// pair and sends gradients only to inputs that require one.

extension Variable {
    public static func + (a: Variable, b: Variable) -> Variable { elementwise(a, b, .add) }
    public static func - (a: Variable, b: Variable) -> Variable { elementwise(a, b, .subtract) }
    public static func * (a: Variable, b: Variable) -> Variable { elementwise(a, b, .multiply) }

    /// a (op) b with broadcasting; backward sums each gradient back to its operand's shape.
    private static func elementwise(_ a: Variable, _ b: Variable, _ op: BinaryOperator) -> Variable {
        let (va, vb) = (a.value, b.value)
        return result(binaryForward(va, vb, op), of: [a, b]) { g in
            switch op {
            case .add, .subtract:
                if a.requiresGradient { a.accumulate(sumToShape(g, va.shape)) }
                if b.requiresGradient { b.accumulate(sumToShape(op == .add ? g : -g, vb.shape)) }
            case .multiply:
                if a.requiresGradient { a.accumulate(sumToShape(binaryForward(g, vb, .multiply), va.shape)) }
                if b.requiresGradient { b.accumulate(sumToShape(binaryForward(g, va, .multiply), vb.shape)) }
            case .divide:
                preconditionFailure("division is not differentiated")
            }
        }
    }

    /// scale * x.
    public static func * (x: Variable, scale: Float) -> Variable {
        result(x.value * scale, of: [x]) { g in x.accumulate(g * scale) }
    }

    /// x + shift.
    public static func + (x: Variable, shift: Float) -> Variable {
        result(x.value + shift, of: [x]) { g in x.accumulate(g) }
    }

    /// The same elements under another shape.
    public func reshaped(_ shape: [Int]) -> Variable {
        let original = value.shape
        return Variable.result(value.reshaped(shape), of: [self]) { g in self.accumulate(g.reshaped(original)) }
    }

    /// Dimensions reordered: result dimension i is dimension axes[i].
    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, axis) in axes.enumerated() { inverse[axis] = i }
        return Variable.result(value.permuted(axes), of: [self]) { g in self.accumulate(g.permuted(inverse)) }
    }

    /// The mean of all elements, as a one-element variable.
    public func mean() -> Variable {
        let shape = value.shape, n = Float(value.count)
        return Variable.result(Tensor(shape: [], [value.mean()]), of: [self]) { g in
            self.accumulate(Tensor(shape: shape, repeating: g.item / n))
        }
    }
}

public func matmul(_ a: Variable, _ b: Variable) -> Variable {
    let (va, vb) = (a.value, b.value)
    return Variable.result(matmulForward(va, vb), of: [a, b]) { g in
        let grads = matmulBackward(va, vb, gradOut: g)
        if a.requiresGradient { a.accumulate(grads.a) }
        if b.requiresGradient { b.accumulate(grads.b) }
    }
}

/// y = x W^T + b over the last dimension of x.
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    let (vx, vw) = (x.value, weight.value)
    return Variable.result(linearForward(vx, weight: vw, bias: bias?.value), of: [x, weight] + (bias.map { [$0] } ?? [])) { g in
        let grads = linearBackward(vx, weight: vw, gradOut: g)
        if x.requiresGradient { x.accumulate(grads.x) }
        if weight.requiresGradient { weight.accumulate(grads.weight) }
        if let bias, bias.requiresGradient { bias.accumulate(grads.bias) }
    }
}

public func conv2d(_ x: Variable, weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0) -> Variable {
    let (vx, vw) = (x.value, weight.value)
    let out = conv2dForward(vx, weight: vw, bias: bias?.value, stride: stride, padding: padding)
    return Variable.result(out, of: [x, weight] + (bias.map { [$0] } ?? [])) { g in
        let grads = conv2dBackward(vx, weight: vw, gradOut: g, stride: stride, padding: padding,
                                   needInputGradient: x.requiresGradient)
        if let gx = grads.x { x.accumulate(gx) }
        if weight.requiresGradient { weight.accumulate(grads.weight) }
        if let bias, bias.requiresGradient { bias.accumulate(grads.bias) }
    }
}

public func groupNorm(_ x: Variable, weight: Variable, bias: Variable, groups: Int, eps: Float = 1e-5) -> Variable {
    let (vx, vw) = (x.value, weight.value)
    let (out, statistics) = groupNormForward(vx, weight: vw, bias: bias.value, groups: groups, eps: eps)
    return Variable.result(out, of: [x, weight, bias]) { g in
        let grads = groupNormBackward(vx, weight: vw, gradOut: g, groups: groups, statistics: statistics)
        if x.requiresGradient { x.accumulate(grads.x) }
        if weight.requiresGradient { weight.accumulate(grads.weight) }
        if bias.requiresGradient { bias.accumulate(grads.bias) }
    }
}

/// silu(groupNorm(x)) as one op: one pass forward, and no normalized tensor kept for backward.
public func groupNormSiLU(_ x: Variable, weight: Variable, bias: Variable, groups: Int, eps: Float = 1e-5) -> Variable {
    let (vx, vw, vb) = (x.value, weight.value, bias.value)
    let (out, statistics) = groupNormForward(vx, weight: vw, bias: vb, groups: groups, eps: eps, silu: true)
    return Variable.result(out, of: [x, weight, bias]) { g in
        let grads = groupNormBackward(vx, weight: vw, gradOut: g, groups: groups, statistics: statistics, siluBias: vb)
        if x.requiresGradient { x.accumulate(grads.x) }
        if weight.requiresGradient { weight.accumulate(grads.weight) }
        if bias.requiresGradient { bias.accumulate(grads.bias) }
    }
}

public func silu(_ x: Variable) -> Variable {
    let vx = x.value
    return Variable.result(siluForward(vx), of: [x]) { g in x.accumulate(siluBackward(vx, gradOut: g)) }
}

/// Softmax over the last dimension.
public func softmax(_ x: Variable) -> Variable {
    let y = softmaxForward(x.value)
    return Variable.result(y, of: [x]) { g in x.accumulate(softmaxBackward(y, gradOut: g)) }
}

/// Multi-head scaled-dot-product attention; q, k, v (B, L, C). A pass that records nothing keeps
/// nothing; a recorded one keeps the output and one log-sum-exp per row for the backward pass.
public func attention(query q: Variable, key k: Variable, value v: Variable, heads: Int) -> Variable {
    let (vq, vk, vv) = (q.value, k.value, v.value)
    let recorded = Variable.isRecorded([q, k, v])
    let (out, logSumExp) = attentionForward(q: vq, k: vk, v: vv, heads: heads, keepLogSumExp: recorded)
    return Variable.result(out, of: [q, k, v]) { g in
        let grads = attentionBackward(q: vq, k: vk, v: vv, out: out, logSumExp: logSumExp!, gradOut: g, heads: heads)
        if q.requiresGradient { q.accumulate(grads.q) }
        if k.requiresGradient { k.accumulate(grads.k) }
        if v.requiresGradient { v.accumulate(grads.v) }
    }
}

/// Nearest-neighbour 2x upsampling of NCHW x.
public func upsampleNearest2x(_ x: Variable) -> Variable {
    Variable.result(upsampleNearest2xForward(x.value), of: [x]) { g in
        x.accumulate(upsampleNearest2xBackward(gradOut: g))
    }
}

/// Concatenation along the channel dimension (1).
public func concatChannels(_ parts: [Variable]) -> Variable {
    let sizes = parts.map { $0.value.shape[1] }
    return Variable.result(concatChannels(parts.map(\.value)), of: parts) { g in
        for (part, grad) in zip(parts, splitChannels(g, sizes: sizes)) where part.requiresGradient {
            part.accumulate(grad)
        }
    }
}

/// Mean squared error against a constant target, as a one-element variable; `sampleWeights`
/// (one per image) weight each image's mean squared error.
public func mseLoss(_ x: Variable, target: Tensor, sampleWeights: [Float]? = nil) -> Variable {
    let (loss, gradient) = mseLoss(x.value, target: target, sampleWeights: sampleWeights)
    return Variable.result(Tensor(shape: [], [loss]), of: [x]) { g in x.accumulate(gradient * g.item) }
}

/// Softmax cross-entropy of logits (N, K) against class ids, mean over rows.
public func crossEntropyLoss(_ logits: Variable, labels: [Int]) -> Variable {
    let (loss, gradient) = crossEntropyLoss(logits.value, labels: labels)
    return Variable.result(Tensor(shape: [], [loss]), of: [logits]) { g in logits.accumulate(gradient * g.item) }
}

/// Zero padding of NCHW x on each side.
public func zeroPad(_ x: Variable, left: Int, right: Int, top: Int, bottom: Int) -> Variable {
    Variable.result(zeroPadForward(x.value, left: left, right: right, top: top, bottom: bottom), of: [x]) { g in
        x.accumulate(zeroPadBackward(gradOut: g, left: left, right: right, top: top, bottom: bottom))
    }
}

/// Rows `indices` of `table` (V, D), as (indices.count, D).
public func embedding(_ table: Variable, indices: [Int]) -> Variable {
    let shape = table.value.shape
    return Variable.result(embeddingForward(table.value, indices: indices), of: [table]) { g in
        table.accumulate(embeddingBackward(tableShape: shape, indices: indices, gradOut: g))
    }
}

/// The mean of each channel's plane: (N, C, H, W) -> (N, C).
public func globalAveragePool(_ x: Variable) -> Variable {
    let shape = x.value.shape
    return Variable.result(globalAveragePoolForward(x.value), of: [x]) { g in
        x.accumulate(globalAveragePoolBackward(gradOut: g, inputShape: shape))
    }
}
