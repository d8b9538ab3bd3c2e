import Foundation
import Imaging
import NN

/// The disturbance ladder of a feature extractor (`diffuse evaluate --calibrate`): real images
/// against the same real images disturbed by each `Disturbance` at each level, beside the
/// real-vs-real floor. An extractor that cannot see a disturbance shows a flat column.
public enum Calibration {
    /// One row of the ladder: a disturbance at a level (or the floor) and what the metrics said.
    public struct Row: Codable, Equatable, Sendable {
        /// nil for the real-vs-real floor.
        public var disturbance: Disturbance?
        public var level: Double?
        public var label: String
        public var fid: Double
        public var kid: Double
        public var precision: Double
        public var recall: Double
        public var coverage: Double
    }

    /// What a calibration run measured.
    public struct Report: Codable, Equatable, Sendable {
        public var features: String
        public var real: String
        /// Images in the reference set and in the compared set.
        public var images: Int
        /// The class left out of both sets and mixed in by `.otherClass` (nil for an unlabelled folder).
        public var otherClass: String?
        public var seed: UInt64
        public var rows: [Row]
        /// One line per (metric, disturbance) whose column does not worsen steadily.
        public var verdicts: [String]

        enum CodingKeys: String, CodingKey { case features, real, images, otherClass = "other_class", seed, rows, verdicts }
    }

    /// Measures the ladder on `dataset` (loaded at the extractor's resolution and channels):
    /// two disjoint random sets of `size` images (fewer if the folder is small), the second
    /// disturbed. With class labels, one class (`otherClass`, else the first) is left out of
    /// both sets and mixed in by `.otherClass`; without, that disturbance is skipped.
    /// `progress` receives each row's label before it is measured.
    public static func run(_ dataset: ImageDataset, extractor: FeatureExtractor, size: Int, otherClass: String? = nil,
                           seed: UInt64 = 0, progress: (String) -> Void = { _ in }) throws -> Report {
        let all = PixelSet(dataset)
        var pool = Array(0..<dataset.count), others: [Int] = []
        var otherName: String?
        if let labels = dataset.labels, dataset.classNames.count >= 2 {
            let name = otherClass ?? dataset.classNames[0]
            guard let label = dataset.classNames.firstIndex(of: name) else {
                throw EvaluationError("--other-class \(name): no such class in \(dataset.root.path) (\(dataset.classNames.joined(separator: ", ")))")
            }
            otherName = name
            pool = pool.filter { labels[$0] != label }
            others = (0..<dataset.count).filter { labels[$0] == label }
        }
        let images = min(size, pool.count / 2)
        guard images >= 2 else {
            throw EvaluationError("\(dataset.root.path): calibration needs at least 4 images outside the left-out class (found \(pool.count))")
        }
        let order = seededPermutation(pool.count, seed: seed).map { pool[$0] }
        let reference = all.subset(Array(order[0..<images])), compared = all.subset(Array(order[images..<(2 * images)]))
        let otherImages = all.subset(seededPermutation(others.count, seed: seed).map { others[$0] })

        let referenceFeatures = features(of: reference, extractor: extractor)
        func row(_ label: String, _ disturbance: Disturbance?, _ level: Double?, _ set: PixelSet) throws -> Row {
            progress(label)
            let m = try Evaluator.compare(real: referenceFeatures, fake: features(of: set, extractor: extractor),
                                          extractor: extractor.name, seed: seed)
            return Row(disturbance: disturbance, level: level, label: label, fid: m.fid, kid: m.kid,
                       precision: m.precision, recall: m.recall, coverage: m.coverage)
        }
        var rows = [try row("real vs real", nil, nil, compared)]
        for disturbance in Disturbance.allCases {
            if disturbance == .otherClass && otherImages.count == 0 { continue }
            for level in disturbance.levels {
                let disturbed = disturbance == .otherClass
                    ? Disturbance.mixed(compared, with: otherImages, fraction: level)
                    : disturbance.apply(to: compared, level: level, seed: seed &+ 1)
                rows.append(try row("\(disturbance.rawValue) \(disturbance.describe(level))", disturbance, level, disturbed))
            }
        }
        return Report(features: extractor.name, real: dataset.root.path, images: images, otherClass: otherName,
                      seed: seed, rows: rows, verdicts: verdicts(rows))
    }

    /// Features of a pixel set (at the extractor's resolution).
    static func features(of set: PixelSet, extractor: FeatureExtractor) -> FeatureMatrix {
        FeatureMatrix(Evaluator.features(count: set.count, extractor: extractor) { set.subset(Array($0)).tensor() }.features)
    }

    /// The metrics of the ladder, with the direction in which each gets worse.
    static let metrics: [(name: String, value: (Row) -> Double, worseIsHigher: Bool)] = [
        ("FID", { $0.fid }, true), ("KID", { $0.kid }, true), ("precision", { $0.precision }, false),
        ("recall", { $0.recall }, false), ("coverage", { $0.coverage }, false),
    ]

    /// For each metric and disturbance whose values, floor first, do not get strictly worse at
    /// every level: a line saying so, with the values.
    static func verdicts(_ rows: [Row]) -> [String] {
        guard let floor = rows.first(where: { $0.disturbance == nil }) else { return [] }
        var lines: [String] = []
        for metric in metrics {
            for disturbance in Disturbance.allCases {
                let ladder = rows.filter { $0.disturbance == disturbance }
                guard !ladder.isEmpty else { continue }
                let values = ([floor] + ladder).map(metric.value)
                let steady = zip(values, values.dropFirst()).allSatisfy { metric.worseIsHigher ? $1 > $0 : $1 < $0 }
                if !steady {
                    let listed = values.map { String(format: metric.name == "KID" ? "%.5f" : "%.3f", $0) }.joined(separator: ", ")
                    lines.append("\(metric.name) does not worsen steadily under \(disturbance.rawValue) (floor first: \(listed))")
                }
            }
        }
        return lines
    }
}

extension Calibration.Report {
    /// The ladder as Markdown: settings, the table (each FID also as a multiple of the floor's),
    /// the verdicts (unless `verdicts` is false: a terminal prints them last, as "Warning:" lines).
    public func markdown(title: String = "Disturbance ladder", verdicts showVerdicts: Bool = true) -> String {
        let floorFID = rows.first { $0.disturbance == nil }?.fid ?? .nan
        var text = "# \(title)\n\nFeatures: \(features). Real images: \(real), two disjoint random sets of \(images) "
        text += "(seed \(seed)); the second disturbed\(otherClass.map { "; class \"\($0)\" left out of both and mixed in by other-class" } ?? "").\n\n"
        text += "| set | FID | FID / floor | KID | precision | recall | coverage |\n|---|---|---|---|---|---|---|\n"
        for row in rows {
            text += String(format: "| %@ | %.3f | %.1f | %.5f | %.4f | %.4f | %.4f |\n", row.label, row.fid, row.fid / floorFID,
                           row.kid, row.precision, row.recall, row.coverage)
        }
        if verdicts.isEmpty {
            text += "\nVerdict: every metric worsens steadily under every disturbance.\n"
        } else if showVerdicts {
            text += "\nVerdict: not every column worsens steadily:\n\n" + verdicts.map { "- \($0)\n" }.joined()
        }
        return text
    }

    /// FID (log scale) against the level of each disturbance, the floor as a level line.
    public func chart() -> LineChart {
        var series = Disturbance.allCases.compactMap { disturbance -> LineChart.Series? in
            let points = rows.filter { $0.disturbance == disturbance }.enumerated().map { (x: Double($0.offset + 1), y: $0.element.fid) }
            return points.isEmpty ? nil : LineChart.Series(name: disturbance.rawValue, points: points)
        }
        if let floor = rows.first(where: { $0.disturbance == nil }) {
            series.append(LineChart.Series(name: "real vs real", points: [(1, floor.fid), (4, floor.fid)]))
        }
        return LineChart(title: "FID under disturbances (\(images) images)", xLabel: "level (1 weakest, 4 strongest)",
                         yLabel: "FID (log scale)", series: series, logY: true)
    }
}
