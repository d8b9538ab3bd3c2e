import Foundation

/// AdamW (Loshchilov & Hutter 2019) with PyTorch's semantics: weight decay is decoupled
/// (p -= lr * wd * p before the Adam update) and both moments are bias-corrected.
public final class AdamW {
    // Hyperparameters are Doubles, as Python floats are in PyTorch: coefficients such as
    // 1 - beta2 are formed in double precision and only then rounded to Float. (Float(0.999)
    // would make 1 - beta2 wrong in its fifth digit.)
    public var learningRate: Double
    public let beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    public let parameters: [Variable]
    /// First and second moment estimates, one per parameter (PyTorch's exp_avg, exp_avg_sq).
    public private(set) var firstMoments: [Tensor]
    public private(set) var secondMoments: [Tensor]
    /// Steps taken so far.
    public private(set) var step = 0

    public init(parameters: [Variable], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                eps: Double = 1e-8, weightDecay: Double = 1e-2) {
        self.parameters = parameters
        (self.learningRate, self.beta1, self.beta2, self.eps, self.weightDecay) = (learningRate, beta1, beta2, eps, weightDecay)
        firstMoments = parameters.map { .zeros($0.value.shape) }
        secondMoments = parameters.map { .zeros($0.value.shape) }
    }

    /// Continues from a saved state: the step count and both moments, one per parameter.
    public func restore(step: Int, firstMoments: [Tensor], secondMoments: [Tensor]) {
        precondition(firstMoments.count == parameters.count && secondMoments.count == parameters.count,
                     "AdamW state for \(firstMoments.count) parameters, optimizer has \(parameters.count)")
        self.step = step
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
    }

    /// Updates every parameter that has a gradient, then clears the gradients.
    public func update() {
        step += 1
        let t = Double(step)
        let stepSize = Float(learningRate / (1 - Foundation.pow(beta1, t)))
        let correction2Root = Float((1 - Foundation.pow(beta2, t)).squareRoot())
        let decay = Float(1 - learningRate * weightDecay)
        let (b1, b2, eps) = (Float(beta1), Float(beta2), Float(eps))
        let (oneMinusB1, oneMinusB2) = (Float(1 - beta1), Float(1 - beta2))
        for (i, parameter) in parameters.enumerated() {
            guard let gradient = parameter.gradient else { continue }
            let pp = parameter.value.mutablePointer(), pg = gradient.pointer
            let pm = firstMoments[i].mutablePointer(), pv = secondMoments[i].mutablePointer()
            parallelChunks(parameter.value.count) { range in
                for j in range {
                    let g = pg[j]
                    pp[j] *= decay
                    pm[j] = b1 * pm[j] + oneMinusB1 * g
                    pv[j] = b2 * pv[j] + oneMinusB2 * (g * g)
                    pp[j] -= stepSize * (pm[j] / (pv[j].squareRoot() / correction2Root + eps))
                }
            }
            parameter.gradient = nil
        }
    }
}
