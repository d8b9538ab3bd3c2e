import Foundation
import Imaging

extension TrainOnSynthetic.Report {
    /// The rows of the results table: setting, what it trains on, its score.
    private var rows: [(name: String, trainedOn: String, score: TrainOnSynthetic.Score)] {
        let percent = String(format: "%.0f%%", 100 * lowDataFraction)
        let rows: [(String, String, TrainOnSynthetic.Score?)] = [
            ("TRTR", "real training images (\(trainImages))", trtr), ("TSTR", "synthetic images (\(syntheticImages))", tstr),
            ("augmented", "real + synthetic (\(syntheticImages))", augmented), ("low-data real", "\(percent) of the real images", lowDataReal),
            ("low-data augmented", "\(percent) of the real images + synthetic", lowDataAugmented)]
        return rows.compactMap { name, trainedOn, score in score.map { (name, trainedOn, $0) } }
    }

    /// A sentence on the synthetic set's classes when it holds only some: why there is no TSTR,
    /// and each setting's mean accuracy over those classes.
    private var partialNote: String? {
        guard isPartial else { return nil }
        let indices = syntheticClasses.compactMap { classNames.firstIndex(of: $0) }
        let means = rows.map { row in
            String(format: "%@ %.1f%%", row.name, 100 * indices.map { row.score.perClass[$0] }.reduce(0, +) / Double(indices.count))
        }
        return "The synthetic set holds \(syntheticClasses.count) of the \(classNames.count) classes (\(syntheticClasses.joined(separator: ", "))), "
            + "so TSTR is not run (a classifier cannot learn a class it never sees). Mean accuracy on those classes: "
            + means.joined(separator: ", ") + "."
    }

    /// What the confusion matrix shows, for captions.
    private var confusionCaption: String { "\(confusionSetting == "tstr" ? "TSTR" : confusionSetting) confusion matrix" }

    /// The report as Markdown: settings, accuracies (mean and std over seeds), TSTR/TRTR, and
    /// each class's accuracy in every setting.
    public func markdown(confusionImage: String? = nil) -> String {
        func accuracy(_ s: TrainOnSynthetic.Score) -> String { String(format: "%.2f%% ± %.2f", 100 * s.mean, 100 * s.std) }
        var text = "# Train on synthetic, test on real\n\n"
        text += "Classifier: the evaluator network (width \(width)), \(epochs) epochs, seeds \(seeds.map(String.init).joined(separator: ", ")); "
        text += "tested on \(testImages) real test images.\n\n| setting | trained on | test accuracy (mean ± std) |\n|---|---|---|\n"
        for row in rows { text += "| \(row.name) | \(row.trainedOn) | \(accuracy(row.score)) |\n" }
        if let ratio = tstrOverTrtr {
            text += String(format: "\nTSTR / TRTR: %.3f (the synthetic set alone reaches %.1f%% of what the real set teaches).\n", ratio, 100 * ratio)
        }
        if let partialNote { text += "\n\(partialNote)\n" }
        text += "\n| class | " + rows.map(\.name).joined(separator: " | ") + " |\n|---|" + String(repeating: "---|", count: rows.count) + "\n"
        for (c, name) in classNames.enumerated() {
            text += "| \(name) | " + rows.map { String(format: "%.1f%%", 100 * $0.score.perClass[c]) }.joined(separator: " | ") + " |\n"
        }
        if let confusionImage { text += "\n\(confusionCaption) (first seed; rows: true class, columns: predicted): ![confusion](\(confusionImage))\n" }
        return text
    }

    /// The confusion matrix as a picture: one cell a (true, predicted) pair, darker for a
    /// larger share of the true class's test images; the diagonal in blue.
    public func confusionImage(cell: Int = 20) -> Image {
        let k = classNames.count, side = k * cell
        var pixels = [UInt8](repeating: 255, count: side * side * 3)
        for row in 0..<k {
            let total = Double(max(1, confusion[row].reduce(0, +)))
            for column in 0..<k {
                let share = Double(confusion[row][column]) / total
                let shade = UInt8(255 - (200 * share).rounded())
                let color: [UInt8] = row == column ? [shade, shade, 255] : [255, shade, shade]
                for y in (row * cell + 1)..<((row + 1) * cell - 1) {
                    for x in (column * cell + 1)..<((column + 1) * cell - 1) {
                        pixels.replaceSubrange(((y * side + x) * 3)..<((y * side + x) * 3 + 3), with: color)
                    }
                }
            }
        }
        return Image(width: side, height: side, channels: 3, pixels: pixels)
    }

    /// The report as one self-contained HTML page, the confusion matrix embedded.
    public func html() throws -> String {
        let png = try PNG.encode(confusionImage())
        var page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Train on synthetic, test on real</title>"
        page += "<style>body { font-family: sans-serif; margin: 24px; } table { border-collapse: collapse; margin: 12px 0; } "
        page += "th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; } td:first-child { text-align: left; } "
        page += "img { image-rendering: pixelated; width: 320px; }</style></head><body>\n<h1>Train on synthetic, test on real</h1>\n"
        page += "<table><tr><th>setting</th><th>trained on</th><th>accuracy</th><th>std</th></tr>\n"
        for row in rows {
            page += String(format: "<tr><td>%@</td><td>%@</td><td>%.2f%%</td><td>%.2f</td></tr>\n", xmlEscaped(row.name),
                           xmlEscaped(row.trainedOn), 100 * row.score.mean, 100 * row.score.std)
        }
        page += "</table>\n<p>" + (tstrOverTrtr.map { String(format: "TSTR / TRTR: %.3f. ", $0) } ?? "")
        page += "Classifier: evaluator network, width \(width), \(epochs) epochs, \(seeds.count) seeds.</p>\n"
        if let partialNote { page += "<p>\(xmlEscaped(partialNote))</p>\n" }
        page += "<table><tr><th>class</th>" + rows.map { "<th>\(xmlEscaped($0.name))</th>" }.joined() + "</tr>\n"
        for (c, name) in classNames.enumerated() {
            page += "<tr><td>\(xmlEscaped(name))</td>" + rows.map { String(format: "<td>%.1f%%</td>", 100 * $0.score.perClass[c]) }.joined() + "</tr>\n"
        }
        page += "</table>\n<h2>\(xmlEscaped(confusionCaption))</h2><p>Rows: true class (\(xmlEscaped(classNames.joined(separator: ", ")))); columns: predicted.</p>\n"
        page += "<img alt=\"confusion matrix\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">\n</body></html>\n"
        return page
    }
}
