/// Scales all gradients together so that their global L2 norm is at most `maxNorm`, as
/// torch.nn.utils.clip_grad_norm_ (scale = min(1, maxNorm / (norm + 1e-6))). Returns the norm
/// before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Variable], maxNorm: Float) -> Float {
    var squares = 0.0
    for parameter in parameters {
        guard let g = parameter.gradient else { continue }
        let p = g.pointer
        for i in 0..<g.count { squares += Double(p[i]) * Double(p[i]) }
    }
    let norm = Float(squares.squareRoot())
    let scale = min(1, maxNorm / (norm + 1e-6))
    if scale < 1 {
        for parameter in parameters where parameter.gradient != nil {
            parameter.gradient = parameter.gradient! * scale
        }
    }
    return norm
}
