import Foundation
import Imaging
import XCTest
@testable import Evaluation

/// The report formats of `diffuse compare`.
final class ComparisonReportTests: XCTestCase {
    private func metrics(fid: Double) -> EvaluationResult {
        EvaluationResult(features: "pixels (1x8x8)", nReal: 10, nFake: 6, fid: fid, kid: 0.01, kidStd: 0.002,
                         precision: 0.5, recall: 0.25, density: 0.75, coverage: 0.5)
    }

    private func row(_ sampler: String, _ steps: Int, nfe: Int?, fid: Double?, error: String? = nil) -> ComparisonRow {
        var row = ComparisonRow(sampler: sampler, steps: steps)
        row.nfe = nfe
        row.seconds = nfe.map { Double($0) / 10 }
        row.imagesPerSecond = nfe.map { 60 / Double($0) }
        row.metrics = fid.map { metrics(fid: $0) }
        row.grid = fid == nil ? nil : "grids/\(sampler)-\(steps).png"
        row.error = error
        return row
    }

    private func report() -> ComparisonReport {
        ComparisonReport(command: "diffuse compare --out 'a b'", model: "m", real: "r", features: "pixels (1x8x8)", nReal: 10,
                         count: 6, seed: 1, batchSize: 4, date: "2026-11-29T00:00:00Z", cores: 2,
                         rows: [row("ddim", 50, nfe: 50, fid: 3), row("heun", 10, nfe: 19, fid: 4),
                                row("ddim", 10, nfe: 10, fid: 9),
                                row("ddpm", 5000, nfe: nil, fid: nil, error: "cannot sample, \"5000\" <steps> | too many")])
    }

    func testJSONRoundTripsWithSnakeCaseKeys() throws {
        let data = try report().json()
        XCTAssertEqual(try JSONDecoder().decode(ComparisonReport.self, from: data), report())
        let text = String(decoding: data, as: UTF8.self)
        for key in ["\"n_real\"", "\"batch_size\"", "\"images_per_second\"", "\"kid_std\""] {
            XCTAssertTrue(text.contains(key), key)
        }
    }

    func testCSVQuotesFieldsAndKeepsEveryRow() {
        let lines = report().csv().split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines[0], ComparisonReport.columns.joined(separator: ","))
        XCTAssertEqual(lines[1], "ddim,50,,50,5.00,1.20,3.000,0.01000,0.00200,0.5000,0.2500,0.7500,0.5000,,,,,,,")
        XCTAssertEqual(lines[4], "ddpm,5000,,,,,,,,,,,,,,,,,,\"cannot sample, \"\"5000\"\" <steps> | too many\"")
    }

    func testMarkdownHasATableRowAndASectionPerRow() {
        let text = report().markdown()
        XCTAssertTrue(text.contains("| ddim | 10 |  | 10 | 1.00 | 6.00 | 9.000 |"), text)
        XCTAssertTrue(text.contains("![heun:10](grids/heun-10.png)"))
        XCTAssertTrue(text.contains("Failed: cannot sample, \"5000\" <steps> \\| too many"))
        XCTAssertEqual(text.components(separatedBy: "\n## ").count - 1, 4)
    }

    /// One line per sampler, in NFE order; failed rows are left out.
    func testChartSeriesGroupFamiliesInNFEOrder() {
        let series = report().series { $0.metrics?.fid }
        XCTAssertEqual(series.map(\.name), ["ddim", "heun"])
        XCTAssertEqual(series[0].points.map(\.x), [10, 50])
        XCTAssertEqual(series[0].points.map(\.y), [9, 3])
        XCTAssertEqual(series[1].points.map(\.x), [19])
    }

    /// Self-contained: the grids are inline data, the charts inline SVG, text escaped.
    func testHTMLIsSelfContained() {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]
        let page = report().html(grids: ["ddim:50": png])
        XCTAssertTrue(page.contains("src=\"data:image/png;base64,\(Data(png).base64EncodedString())\""))
        XCTAssertEqual(page.components(separatedBy: "<svg").count - 1, 2)
        XCTAssertTrue(page.contains("cannot sample, &quot;5000&quot; &lt;steps&gt; | too many"))
        XCTAssertFalse(page.contains("<steps>"))
        XCTAssertTrue(page.contains("<li>Command: <code>diffuse compare --out 'a b'</code></li>"))
        // nothing fetched from elsewhere
        let sources = page.components(separatedBy: "src=\"").dropFirst().map { $0.prefix(5) }
        XCTAssertEqual(Set(sources), ["data:"])
        XCTAssertFalse(page.contains("href="))
    }
}
