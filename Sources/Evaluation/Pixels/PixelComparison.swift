import Foundation

/// How much two disjoint sets of real images differ in their pixel statistics: the largest
/// difference of each statistic over several random draws of two sets of `images` each. A
/// generated set that differs from the real one by more than this differs by more than
/// chance at that size.
public struct PixelFloor: Codable, Equatable, Sendable {
    public var largest: PixelDifference
    /// Images in each of the two real sets, and how many pairs of sets were drawn.
    public var images: Int
    public var draws: Int

    /// The floor for sets of `size` images, drawn `draws` times from `real` (seeded). The sets
    /// hold min(size, real.count / 2) images: with fewer than twice `size` real images the sets
    /// are smaller, which makes the floor larger (fewer warnings, never false ones). Nil when
    /// `real` has fewer than 4 images.
    public init?(real: PixelSet, size: Int, draws: Int = 10, seed: UInt64 = 0) {
        let images = min(size, real.count / 2)
        guard images >= 2, draws >= 1 else { return nil }
        let differences = (0..<draws).map { draw in
            let order = seededPermutation(real.count, seed: seed &+ UInt64(draw))
            return PixelDifference(PixelSummary(real.subset(Array(order[0..<images]))),
                                   PixelSummary(real.subset(Array(order[images..<(2 * images)]))))
        }
        (largest, self.images, self.draws) = (PixelDifference(largestOf: differences), images, draws)
    }
}

/// The pixel statistics of a generated set beside the real set's, their difference, the
/// real-vs-real floor and a warning for each statistic that differs beyond the floor.
public struct PixelComparison: Codable, Equatable, Sendable {
    public var real: PixelSummary
    public var generated: PixelSummary
    public var difference: PixelDifference
    public var floor: PixelFloor?
    /// One sentence for each statistic beyond the floor (printed after "Warning: ").
    public var warnings: [String]

    public init(real: PixelSummary, generated: PixelSummary, floor: PixelFloor?) {
        (self.real, self.generated, self.floor) = (real, generated, floor)
        let difference = PixelDifference(real, generated)
        self.difference = difference
        warnings = floor.map { Self.warnings(real: real, generated: generated, difference: difference, floor: $0) } ?? []
    }

    private static func warnings(real: PixelSummary, generated: PixelSummary, difference d: PixelDifference,
                                 floor: PixelFloor) -> [String] {
        let f = floor.largest
        let sets = "two real sets of \(floor.images) images differ by up to"
        func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        func points(_ x: Double) -> String { String(format: "%.2f points", 100 * x) }
        func level(_ x: Double) -> String { String(format: "%.2f", x) }
        var out: [String] = []
        if d.totalVariation > f.totalVariation {
            out.append("the generated pixel values are \(String(format: "%.3f", d.totalVariation)) from the real ones in "
                       + "total variation (\(sets) \(String(format: "%.3f", f.totalVariation)))")
        }
        if d.wasserstein1 > f.wasserstein1 {
            out.append("the generated pixel values are \(level(d.wasserstein1)) levels from the real ones in "
                       + "Wasserstein-1 distance (\(sets) \(level(f.wasserstein1)))")
        }
        if d.zeros > f.zeros {
            out.append("\(percent(generated.zeros)) of generated pixel values are 0, against \(percent(real.zeros)) "
                       + "of real ones (\(sets) \(points(f.zeros)))")
        }
        if d.saturated > f.saturated {
            out.append("\(percent(generated.saturated)) of generated pixel values are 255, against "
                       + "\(percent(real.saturated)) of real ones (\(sets) \(points(f.saturated)))")
        }
        for c in d.mean.indices where d.mean[c] > f.mean[c] {
            out.append("channel \(c) has mean \(level(generated.mean[c])) in generated images, \(level(real.mean[c])) "
                       + "in real ones (\(sets) \(level(f.mean[c])))")
        }
        for c in d.std.indices where d.std[c] > f.std[c] {
            out.append("channel \(c) has standard deviation \(level(generated.std[c])) in generated images, "
                       + "\(level(real.std[c])) in real ones (\(sets) \(level(f.std[c])))")
        }
        return out
    }

    /// A Markdown table: real, generated, their difference and the real-vs-real floor.
    public func markdown() -> String {
        func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
        func level(_ x: Double) -> String { String(format: "%.2f", x) }
        let f = floor?.largest
        var text = "| pixel statistic | real | generated | difference | real vs real (up to) |\n|---|---|---|---|---|\n"
        text += "| values at 0 | \(percent(real.zeros)) | \(percent(generated.zeros)) | \(percent(difference.zeros)) | \(f.map { percent($0.zeros) } ?? "") |\n"
        text += "| values at 255 | \(percent(real.saturated)) | \(percent(generated.saturated)) | \(percent(difference.saturated)) | \(f.map { percent($0.saturated) } ?? "") |\n"
        for c in real.mean.indices {
            text += "| channel \(c) mean | \(level(real.mean[c])) | \(level(generated.mean[c])) | \(level(difference.mean[c])) | \(f.map { level($0.mean[c]) } ?? "") |\n"
            text += "| channel \(c) std | \(level(real.std[c])) | \(level(generated.std[c])) | \(level(difference.std[c])) | \(f.map { level($0.std[c]) } ?? "") |\n"
        }
        text += "| histogram total variation | | | \(String(format: "%.4f", difference.totalVariation)) | \(f.map { String(format: "%.4f", $0.totalVariation) } ?? "") |\n"
        text += "| histogram Wasserstein-1 (levels) | | | \(level(difference.wasserstein1)) | \(f.map { level($0.wasserstein1) } ?? "") |\n"
        if let floor {
            text += "\nReal vs real: the largest difference between two disjoint random sets of \(floor.images) real images over \(floor.draws) draws.\n"
        }
        return text
    }
}
