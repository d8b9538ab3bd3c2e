import NN

/// What the U-Net predicts from x_t = sqrt(a) x0 + sqrt(1 - a) eps, a = alphas_cumprod[t].
public enum PredictionType: String, Sendable, CaseIterable {
    /// The noise eps (Ho et al. 2020).
    case epsilon
    /// v = sqrt(a) eps - sqrt(1 - a) x0 (Salimans & Ho 2022).
    case vPrediction = "v_prediction"
    /// The clean sample x0.
    case sample

    /// The training target for clean images `x0`, noise `eps` and the per-image alphas_cumprod.
    public func target(x0: Tensor, noise: Tensor, alphasCumprod: [Float]) -> Tensor {
        switch self {
        case .epsilon: return noise
        case .sample: return x0
        case .vPrediction:
            return perImageCombination(alphasCumprod.map { $0.squareRoot() }, noise,
                                       alphasCumprod.map { -(1 - $0).squareRoot() }, x0)
        }
    }
}

/// a[i] * x[i] + b[i] * y[i] for each image i of the batches x and y (N, ...).
func perImageCombination(_ a: [Float], _ x: Tensor, _ b: [Float], _ y: Tensor) -> Tensor {
    precondition(x.shape == y.shape && x.shape[0] == a.count && a.count == b.count, "batch shapes differ")
    let per = x.count / max(x.shape[0], 1)
    var values = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { px in
        y.withUnsafeBufferPointer { py in
            for i in 0..<a.count {
                for j in (i * per)..<((i + 1) * per) { values[j] = a[i] * px[j] + b[i] * py[j] }
            }
        }
    }
    return Tensor(shape: x.shape, values)
}
