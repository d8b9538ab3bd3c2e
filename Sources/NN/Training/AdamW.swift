import Foundation

/// AdamW (Loshchilov & Hutter 2019) with PyTorch's semantics: weight decay is decoupled
/// (p -= lr * wd * p before the Adam update) and both moments are bias-corrected.
public final class AdamW {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public let parameters: [Variable]
    /// First and second moment estimates, one per parameter (PyTorch's exp_avg, exp_avg_sq).
    public private(set) var firstMoments: [Tensor]
    public private(set) var secondMoments: [Tensor]
    /// Steps taken so far.
    public private(set) var step = 0

    public init(parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 1e-2) {
        self.parameters = parameters
        (self.learningRate, self.beta1, self.beta2, self.eps, self.weightDecay) = (learningRate, beta1, beta2, eps, weightDecay)
        firstMoments = parameters.map { .zeros($0.value.shape) }
        secondMoments = parameters.map { .zeros($0.value.shape) }
    }

    /// Updates every parameter that has a gradient, then clears the gradients.
    public func update() {
        step += 1
        let t = Float(step)
        let correction1 = 1 - Foundation.pow(beta1, t)
        let correction2Root = (1 - Foundation.pow(beta2, t)).squareRoot()
        let stepSize = learningRate / correction1
        let decay = 1 - learningRate * weightDecay
        for (i, parameter) in parameters.enumerated() {
            guard let gradient = parameter.gradient else { continue }
            let pp = parameter.value.mutablePointer(), pg = gradient.pointer
            let pm = firstMoments[i].mutablePointer(), pv = secondMoments[i].mutablePointer()
            let (b1, b2, eps) = (beta1, beta2, eps)
            parallelChunks(parameter.value.count) { range in
                for j in range {
                    let g = pg[j]
                    pp[j] *= decay
                    pm[j] = b1 * pm[j] + (1 - b1) * g
                    pv[j] = b2 * pv[j] + (1 - b2) * g * g
                    pp[j] -= stepSize * pm[j] / (pv[j].squareRoot() / correction2Root + eps)
                }
            }
            parameter.gradient = nil
        }
    }
}
