import Foundation
import Imaging
import NN

/// Architecture 2's features: what a person sees as well as what class an image is.
///
/// The penultimate layer (4w) sees class and shape. Group norm then hides how an image is
/// drawn, so beside it come statistics of the stem's convolution before its norm, per channel
/// over positions: the mean, the standard deviation (contrast, edges, noise) and the 10th,
/// 50th and 90th percentiles (the background level, a gray floor, clipped highlights). Each
/// number is standardized by its mean and standard deviation over the training images, so
/// that no group outweighs another; a statistic that barely varies over real images (the
/// background of Fashion-MNIST is exactly black) has its scale held at no less than what one
/// 8-bit level through that channel's filter makes, so a one-level change counts as one
/// standard deviation rather than infinitely many.
extension EvaluatorNetwork {
    /// The mean and scale of each feature over the training images; features are reported as
    /// (raw - mean) / scale. Saved beside the weights.
    public struct Standardization: Equatable, Sendable {
        public static let meanName = "standardization.mean", scaleName = "standardization.scale"
        public var mean: [Float]
        public var scale: [Float]
    }

    /// The features `evaluate` reads (N, featureDimension) of images (N, C, H, W) in [-1, 1]:
    /// the penultimate layer, or with architecture 2 the standardized readout.
    public func evaluationFeatures(_ images: Tensor) -> Tensor {
        guard config.multiLayerFeatures else { return features(Variable(images)).value }
        var raw = rawReadout(images)
        if let standardization {
            let d = config.featureDimension
            raw.withUnsafeMutableBufferPointer { values in
                for i in values.indices { values[i] = (values[i] - standardization.mean[i % d]) / standardization.scale[i % d] }
            }
        }
        return raw
    }

    /// The percentiles of the stem's responses that the readout keeps.
    static let percentiles: [Double] = [0.1, 0.5, 0.9]

    /// Architecture 2's features before standardization (N, 9w): the penultimate layer (4w),
    /// then for the stem's convolution before its norm each channel's mean (w), standard
    /// deviation (w) and percentiles (3w).
    func rawReadout(_ images: Tensor) -> Tensor {
        let stem = stages[0].conv(Variable(images))
        let penultimate = globalAveragePool(stages.dropFirst().reduce(silu(stages[0].norm(stem))) { $1($0) }).value
        let (n, w, d) = (images.shape[0], config.width, config.featureDimension)
        let area = stem.value.shape[2] * stem.value.shape[3]
        var out = [Float](repeating: 0, count: n * d)
        penultimate.withUnsafeBufferPointer { pooled in
            for image in 0..<n { for j in 0..<(4 * w) { out[image * d + j] = pooled[image * 4 * w + j] } }
        }
        stem.value.withUnsafeBufferPointer { values in
            var sorted = [Float](repeating: 0, count: area)
            for image in 0..<n {
                for c in 0..<w {
                    let plane = values[((image * w + c) * area)..<((image * w + c + 1) * area)]
                    var sum = 0.0, squares = 0.0
                    for v in plane { (sum, squares) = (sum + Double(v), squares + Double(v) * Double(v)) }
                    let mean = sum / Double(area)
                    let row = image * d + 4 * w
                    out[row + c] = Float(mean)
                    out[row + w + c] = Float(max(0, squares / Double(area) - mean * mean).squareRoot())
                    sorted.replaceSubrange(0..<area, with: plane)
                    sorted.sort()
                    for (k, p) in Self.percentiles.enumerated() {
                        out[row + (2 + k) * w + c] = sorted[min(area - 1, Int(p * Double(area - 1)))]
                    }
                }
            }
        }
        return Tensor(shape: [n, d], out)
    }

    /// Sets the standardization to each feature's mean and standard deviation over `dataset`;
    /// a stem statistic's scale is at least what one 8-bit level through its filter makes
    /// (the filter's absolute weights summed, / 127.5), a penultimate feature's at least 1e-6.
    public func standardize(on dataset: ImageDataset, batchSize: Int = 250) {
        let (d, w) = (config.featureDimension, config.width)
        var sums = [Double](repeating: 0, count: d), squares = sums
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let raw = rawReadout(dataset.batch(Array(start..<min(start + batchSize, dataset.count))))
            raw.withUnsafeBufferPointer { values in
                for (i, v) in values.enumerated() {
                    sums[i % d] += Double(v)
                    squares[i % d] += Double(v) * Double(v)
                }
            }
        }
        let filters = stages[0].conv.weight.value.scalars
        let perFilter = filters.count / w
        let oneLevel = (0..<w).map { c in filters[(c * perFilter)..<((c + 1) * perFilter)].map { Double(abs($0)) }.reduce(0, +) / 127.5 }
        let count = Double(max(1, dataset.count))
        let mean = sums.map { $0 / count }
        let scale = (0..<d).map { j in
            let sd = max(0, squares[j] / count - mean[j] * mean[j]).squareRoot()
            return max(sd, j < 4 * w ? 1e-6 : oneLevel[j % w])
        }
        standardization = Standardization(mean: mean.map(Float.init), scale: scale.map(Float.init))
    }
}
