import Foundation
import Imaging

extension ComparisonReport {
    /// Rows of one sampler (and guidance scale) as (NFE, value) points in NFE order: a chart's
    /// line for that family. Failed rows and rows without the value are left out.
    func series(_ value: (ComparisonRow) -> Double?) -> [LineChart.Series] {
        func family(_ row: ComparisonRow) -> String { row.sampler + (row.guidance.map { " w=\(ComparisonRow.scale($0))" } ?? "") }
        var families: [String] = []
        for row in rows where !families.contains(family(row)) { families.append(family(row)) }
        return families.compactMap { name in
            let points = rows.filter { family($0) == name }
                .compactMap { row in row.nfe.flatMap { nfe in value(row).map { (x: Double(nfe), y: $0) } } }
                .sorted { $0.x < $1.x }
            return points.isEmpty ? nil : LineChart.Series(name: name, points: points)
        }
    }

    /// FID against model evaluations, one line per sampler family, on a log scale so that one
    /// failed setting (FID 28 beside 0.3) does not flatten the others; the real-vs-real floor
    /// as a level line.
    public func fidChart() -> LineChart {
        var lines = series { $0.metrics?.fid }
        let nfes = lines.flatMap { $0.points.map(\.x) }
        if let floor, let first = nfes.min(), let last = nfes.max() {
            lines.append(LineChart.Series(name: "real vs real", points: [(first, floor.fidAtReportSizes), (last, floor.fidAtReportSizes)]))
        }
        return LineChart(title: "FID against model evaluations (lower is better)", xLabel: "model evaluations (NFE, log scale)",
                         yLabel: "FID (log scale)", series: lines, logX: true, logY: true)
    }

    /// Precision, recall and (when measured) TSTR accuracy against the guidance scale, one line
    /// per setting and measure; nil unless the rows have two guidance scales or more (the
    /// expected shape: precision rises, recall falls as W grows).
    public func guidanceChart() -> LineChart? {
        guard Set(rows.compactMap(\.guidance)).count >= 2 else { return nil }
        var settings: [String] = []
        for row in rows where !settings.contains("\(row.sampler):\(row.steps)") { settings.append("\(row.sampler):\(row.steps)") }
        let measures: [(name: String, value: (ComparisonRow) -> Double?)] = [
            ("precision", { $0.metrics?.precision }), ("recall", { $0.metrics?.recall }), ("TSTR accuracy", { $0.tstrAccuracy }),
        ]
        let lines = settings.flatMap { setting in
            measures.compactMap { name, value -> LineChart.Series? in
                let points = rows.filter { "\($0.sampler):\($0.steps)" == setting }
                    .compactMap { row in row.guidance.flatMap { w in value(row).map { (x: Double(w), y: $0) } } }
                    .sorted { $0.x < $1.x }
                return points.isEmpty ? nil : LineChart.Series(name: "\(setting) \(name)", points: points)
            }
        }
        let hasTSTR = rows.contains { $0.tstrAccuracy != nil }
        return LineChart(title: "Precision, recall\(hasTSTR ? " and TSTR accuracy" : "") against the guidance scale",
                         xLabel: "guidance scale W", yLabel: hasTSTR ? "precision, recall, accuracy" : "precision, recall", series: lines)
    }

    /// Sampling time against model evaluations, one line per sampler family.
    public func timeChart() -> LineChart {
        LineChart(title: "Sampling time for \(count) images", xLabel: "model evaluations (NFE, log scale)",
                  yLabel: "seconds (log scale)", series: series { $0.seconds }, logX: true, logY: true)
    }

    /// The whole report as one HTML page with nothing outside it: the settings, the table, the
    /// charts as inline SVG and each row's grid as an embedded PNG (`grids` maps a row's label
    /// to its PNG bytes).
    public func html(grids: [String: [UInt8]]) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Sampler comparison</title>
            <style>
            body { font-family: sans-serif; margin: 24px; color: #222; }
            table { border-collapse: collapse; margin: 16px 0; font-size: 14px; }
            th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
            th { background: #f3f3f3; } td.text { text-align: left; } tr.failed td { color: #b00; }
            tr.floor td { background: #f7f7e8; } p.warning { color: #b00; max-width: 300px; font-size: 13px; }
            .charts { display: flex; flex-wrap: wrap; gap: 16px; }
            .grids { display: flex; flex-wrap: wrap; gap: 24px; }
            figure { margin: 0; } figcaption { font-weight: bold; margin-bottom: 4px; }
            img { image-rendering: pixelated; width: 300px; }
            code { background: #f3f3f3; padding: 1px 4px; }
            </style></head><body>
            <h1>Sampler comparison</h1>
            <ul>

            """
        for line in settingsLines() { page += "<li>\(xmlEscaped(line).replacingBackticks())</li>\n" }
        page += "</ul>\n<table>\n<tr>" + Self.columns.map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        if let floor = floorCells() {
            page += "<tr class=\"floor\">" + floor.map { "<td>\(xmlEscaped($0))</td>" }.joined() + "</tr>\n"
        }
        for row in rows {
            let cells = cells(row).enumerated().map { index, text in
                let isText = index == 0 || index == Self.columns.count - 1
                return "<td\(isText ? " class=\"text\"" : "")>\(xmlEscaped(text))</td>"
            }
            page += "<tr\(row.error == nil ? "" : " class=\"failed\"")>" + cells.joined() + "</tr>\n"
        }
        page += "</table>\n<div class=\"charts\">\n" + fidChart().svg() + timeChart().svg() + (guidanceChart()?.svg() ?? "") + "</div>\n"
        page += "<h2>Samples</h2>\n<div class=\"grids\">\n"
        for row in rows {
            page += "<figure><figcaption>\(xmlEscaped(row.label))</figcaption>"
            if let png = grids[row.label] {
                page += "<img alt=\"\(xmlEscaped(row.label)) samples\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
            } else {
                page += "<p>\(xmlEscaped(row.error ?? "no grid"))</p>"
            }
            for warning in row.metrics?.warnings ?? [] { page += "<p class=\"warning\">Warning: \(xmlEscaped(warning))</p>" }
            page += "</figure>\n"
        }
        return page + "</div>\n</body></html>\n"
    }
}

private extension String {
    /// `code` spans (Markdown backticks) as <code> elements, in already-escaped text.
    func replacingBackticks() -> String {
        split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .map { $0.offset % 2 == 1 ? "<code>\($0.element)</code>" : String($0.element) }.joined()
    }
}
