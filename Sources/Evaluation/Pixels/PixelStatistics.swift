import Foundation

/// The 8-bit values of one image set: their histogram (every channel together), the fractions
/// at 0 and at 255, and each channel's mean and standard deviation (in levels, 0 to 255).
public struct PixelSummary: Codable, Equatable, Sendable {
    /// Fraction of values that are exactly 0 and exactly 255.
    public var zeros: Double
    public var saturated: Double
    public var mean: [Double]
    public var std: [Double]
    /// Counts of the values 0...255, over all channels.
    public var histogram: [Int]

    public init(_ set: PixelSet) {
        var histogram = [Int](repeating: 0, count: 256)
        var sums = [Double](repeating: 0, count: set.channels), squares = sums
        set.pixels.withUnsafeBufferPointer { values in
            for image in 0..<set.count {
                for channel in 0..<set.channels {
                    let start = (image * set.channels + channel) * set.area
                    var channelHistogram = [Int](repeating: 0, count: 256)
                    for value in values[start..<(start + set.area)] { channelHistogram[Int(value)] += 1 }
                    for (level, n) in channelHistogram.enumerated() where n > 0 {
                        histogram[level] += n
                        sums[channel] += Double(n * level)
                        squares[channel] += Double(n * level * level)
                    }
                }
            }
        }
        let perChannel = Double(max(1, set.count * set.area)), total = Double(max(1, histogram.reduce(0, +)))
        self.histogram = histogram
        zeros = Double(histogram[0]) / total
        saturated = Double(histogram[255]) / total
        mean = sums.map { $0 / perChannel }
        std = zip(sums, squares).map { sum, square in
            let m = sum / perChannel
            return max(0, square / perChannel - m * m).squareRoot()
        }
    }

    /// Total variation distance between the two value distributions: half the summed absolute
    /// difference of the normalized histograms (0 for equal, 1 for disjoint).
    public func totalVariation(to other: PixelSummary) -> Double {
        let (p, q) = (normalized, other.normalized)
        return 0.5 * zip(p, q).reduce(0) { $0 + abs($1.0 - $1.1) }
    }

    /// Wasserstein-1 (earth mover's) distance between the value distributions, in levels: the
    /// summed absolute difference of the cumulative distributions over 0...255.
    public func wasserstein1(to other: PixelSummary) -> Double {
        let (p, q) = (normalized, other.normalized)
        var (cp, cq, distance) = (0.0, 0.0, 0.0)
        for level in 0..<255 {
            cp += p[level]
            cq += q[level]
            distance += abs(cp - cq)
        }
        return distance
    }

    private var normalized: [Double] {
        let total = Double(max(1, histogram.reduce(0, +)))
        return histogram.map { Double($0) / total }
    }
}

/// How far one set's pixel statistics are from another's, one number per statistic: the
/// distances between the histograms, and the absolute differences of the fractions at 0 and
/// 255 and of each channel's mean and standard deviation.
public struct PixelDifference: Codable, Equatable, Sendable {
    public var totalVariation: Double
    public var wasserstein1: Double
    public var zeros: Double
    public var saturated: Double
    public var mean: [Double]
    public var std: [Double]

    enum CodingKeys: String, CodingKey {
        case totalVariation = "total_variation", wasserstein1 = "wasserstein_1", zeros, saturated, mean, std
    }

    public init(_ a: PixelSummary, _ b: PixelSummary) {
        totalVariation = a.totalVariation(to: b)
        wasserstein1 = a.wasserstein1(to: b)
        zeros = abs(a.zeros - b.zeros)
        saturated = abs(a.saturated - b.saturated)
        mean = zip(a.mean, b.mean).map { abs($0 - $1) }
        std = zip(a.std, b.std).map { abs($0 - $1) }
    }

    /// The largest of each statistic over `differences` (which must not be empty).
    init(largestOf differences: [PixelDifference]) {
        self = differences[0]
        for d in differences.dropFirst() {
            totalVariation = max(totalVariation, d.totalVariation)
            wasserstein1 = max(wasserstein1, d.wasserstein1)
            zeros = max(zeros, d.zeros)
            saturated = max(saturated, d.saturated)
            mean = zip(mean, d.mean).map(max)
            std = zip(std, d.std).map(max)
        }
    }
}
