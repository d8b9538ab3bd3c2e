import Foundation

/// What `diffuse compare` measured: one row per sampler setting, all sampled from the same model
/// with the same seeds and judged against the same real images.
public struct ComparisonReport: Codable, Equatable, Sendable {
    /// The command line that made the report.
    public var command: String
    public var model: String
    public var real: String
    /// The feature extractor of every row's metrics.
    public var features: String
    public var nReal: Int
    /// Images generated per row.
    public var count: Int
    public var seed: UInt64
    public var batchSize: Int
    /// When the report was written (ISO 8601) and on how many cores.
    public var date: String
    public var cores: Int
    public var rows: [ComparisonRow]
    /// The metrics of `count` real images held out as if generated against the other real
    /// images (fewer held out when the folder holds under twice `count`): the floor of the
    /// feature space at this size.
    public var floor: FeatureFloor?
    /// The real test images of the rows' TSTR accuracy and the classifier's passes over a
    /// row's images (nil: not measured).
    public var tstrTest: String?
    public var tstrEpochs: Int?

    enum CodingKeys: String, CodingKey {
        case command, model, real, features, nReal = "n_real", count, seed, batchSize = "batch_size", date, cores, rows, floor
        case tstrTest = "tstr_test", tstrEpochs = "tstr_epochs"
    }

    public init(command: String, model: String, real: String, features: String, nReal: Int, count: Int,
                seed: UInt64, batchSize: Int, date: String, cores: Int, rows: [ComparisonRow]) {
        (self.command, self.model, self.real, self.features, self.nReal) = (command, model, real, features, nReal)
        (self.count, self.seed, self.batchSize, self.date, self.cores, self.rows) = (count, seed, batchSize, date, cores, rows)
    }
}

/// One sampler setting of a comparison ("ddim:50") and what it measured, or why it failed.
public struct ComparisonRow: Codable, Equatable, Sendable {
    /// The sampler's command-line name ("dpmpp-2m"): rows of one sampler form a family in the charts.
    public var sampler: String
    public var steps: Int
    /// The classifier-free guidance scale of the row (nil: none asked, plain sampling).
    public var guidance: Float?
    /// Model evaluations a sample took (Heun and PNDM take more than one a step).
    public var nfe: Int?
    /// The test accuracy on real images of a classifier trained on the row's images alone,
    /// labelled by the class each was drawn for (`compare --tstr-test`).
    public var tstrAccuracy: Double?
    /// Wall time of the sampling alone (not the metrics), and images per second from it.
    public var seconds: Double?
    public var imagesPerSecond: Double?
    public var metrics: EvaluationResult?
    /// The row's sample grid, relative to the report's folder.
    public var grid: String?
    /// Why the row failed; the other fields that were not reached stay nil.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case sampler, steps, guidance, nfe, tstrAccuracy = "tstr_accuracy", seconds, imagesPerSecond = "images_per_second"
        case metrics, grid, error
    }

    public init(sampler: String, steps: Int, guidance: Float? = nil) {
        (self.sampler, self.steps, self.guidance) = (sampler, steps, guidance)
    }

    /// "sampler:steps" as the row is written on the command line, with " w=W" for guidance.
    public var label: String { "\(sampler):\(steps)" + (guidance.map { " w=\(ComparisonRow.scale($0))" } ?? "") }

    /// A guidance scale as written: 2, 1.5.
    public static func scale(_ w: Float) -> String { w == w.rounded() ? String(Int(w)) : String(w) }
}

extension ComparisonReport {
    /// The report as pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The columns of the CSV and of the tables, in order.
    static let columns = ["sampler", "steps", "guidance", "nfe", "seconds", "images_per_second", "fid", "kid", "kid_std",
                          "precision", "recall", "density", "coverage", "class_entropy", "tstr_accuracy", "zeros", "pixel_tv", "pixel_w1", "warnings",
                          "error"]

    /// A row's cells, formatted for the tables; empty where the row has no value.
    func cells(_ row: ComparisonRow) -> [String] {
        func number(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "" }
        let m = row.metrics
        return [row.sampler, String(row.steps), row.guidance.map(ComparisonRow.scale) ?? "", row.nfe.map(String.init) ?? "",
                number(row.seconds, "%.2f"),
                number(row.imagesPerSecond, "%.2f"), number(m?.fid, "%.3f"), number(m?.kid, "%.5f"),
                number(m?.kidStd, "%.5f"), number(m?.precision, "%.4f"), number(m?.recall, "%.4f"),
                number(m?.density, "%.4f"), number(m?.coverage, "%.4f"), number(m?.classEntropy, "%.3f"), number(row.tstrAccuracy, "%.4f"),
                number(m?.pixels?.generated.zeros, "%.4f"),
                number(m?.pixels?.difference.totalVariation, "%.4f"), number(m?.pixels?.difference.wasserstein1, "%.2f"),
                m?.warnings.map { String($0.count) } ?? "", row.error ?? ""]
    }

    /// The real-vs-real line of the tables, in the columns of a row: what the metrics give for
    /// two sets of real images (its "zeros" is the real images' fraction of 0 values).
    func floorCells() -> [String]? {
        guard let f = floor else { return nil }
        let zeros = rows.lazy.compactMap { $0.metrics?.pixels?.real.zeros }.first
        return ["real vs real", "", "", "", "", "", String(format: "%.3f", f.fidAtReportSizes), String(format: "%.5f", f.kid), "",
                String(format: "%.4f", f.precision), String(format: "%.4f", f.recall), String(format: "%.4f", f.density),
                String(format: "%.4f", f.coverage), "", "", zeros.map { String(format: "%.4f", $0) } ?? "", "", "", "",
                "floor: \(f.images) real images held out vs the other \(f.referenceImages) (FID rescaled to \(nReal) vs \(count))"]
    }

    /// One line per row under a header line (RFC 4180 quoting).
    public func csv() -> String {
        func quoted(_ field: String) -> String {
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return ([Self.columns] + rows.map(cells)).map { $0.map(quoted).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// The settings, the table and each row's grid, in Markdown.
    public func markdown() -> String {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        var text = "# Sampler comparison\n\n" + settingsLines().map { "- \($0)\n" }.joined()
        text += "\n| " + Self.columns.joined(separator: " | ") + " |\n"
        text += "|" + String(repeating: "---|", count: Self.columns.count) + "\n"
        for cells in (floorCells().map { [$0] } ?? []) + rows.map(cells) {
            text += "| " + cells.map(cell).joined(separator: " | ") + " |\n"
        }
        text += "\nzeros: the fraction of generated pixel values that are 0; pixel_tv, pixel_w1: total variation and "
        text += "Wasserstein-1 distance (levels) between the generated and real pixel histograms; warnings: the "
        text += "sampler's caution for its schedule, if any, and pixel statistics beyond what two real sets of the same size "
        text += "differ by (listed under each row).\n"
        for row in rows {
            text += "\n## \(row.label)\n\n"
            if let grid = row.grid { text += "![\(row.label)](\(grid))\n" }
            if let error = row.error { text += "Failed: \(cell(error))\n" }
            for warning in row.metrics?.warnings ?? [] { text += "\n**Warning:** \(cell(warning))\n" }
        }
        return text
    }

    /// The report's settings, one phrase each, for the Markdown and HTML headers.
    func settingsLines() -> [String] {
        ["Command: `\(command)`", "Model: \(model)", "Real images: \(real) (\(nReal))",
         "Generated per row: \(count), seed \(seed), batch size \(batchSize)", "Features: \(features)",
         "Written \(date) on \(cores) cores; time is sampling only, metrics excluded"]
            + (tstrTest.map { ["tstr_accuracy: a classifier (the evaluator network, \(tstrEpochs ?? 0) epochs, seed \(seed)) trained on "
                                + "the row's images alone, labelled by the class each was drawn for, tested on \($0)"] } ?? [])
    }
}
