import ArgumentParser
import Diffusion
import Evaluation
import Foundation
import Imaging
import NN
import XCTest
@testable import diffuse

/// `diffuse compare` end to end on a tiny random-weight model and a folder of random images.
final class CompareCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try temporaryFolder(for: self)
        // Real features are cached: keep the cache inside the test's folder.
        setenv("DIFFUSE_CACHE", root.appendingPathComponent("cache").path, 1)
    }

    private func readReport(_ folder: URL) throws -> ComparisonReport {
        try JSONDecoder().decode(ComparisonReport.self, from: Data(contentsOf: folder.appendingPathComponent("report.json")))
    }

    func testFailedRowIsReportedAndTheOthersRun() throws {
        let model = try saveTinyModel(under: root), real = try writeRandomImages(under: root, name: "real", count: 12)
        let out = root.appendingPathComponent("report")
        var command = try Diffuse.parseAsRoot([
            "compare", "--model", model.path, "--real", real.path, "--schedulers", "ddim:3,ddpm:500,euler:2",
            "--count", "6", "--batch-size", "4", "--features", "pixels", "--out", out.path,
        ])
        try command.run()

        let report = try readReport(out)
        XCTAssertEqual(report.rows.map(\.label), ["ddim:3", "ddpm:500", "euler:2"])
        XCTAssertEqual(report.nReal, 12)
        XCTAssertEqual(report.count, 6)
        let failed = report.rows[1]
        XCTAssertNil(failed.metrics)
        XCTAssertNil(failed.grid)
        XCTAssertTrue(failed.error?.contains("500 steps") == true, failed.error ?? "no error")
        for row in [report.rows[0], report.rows[2]] {
            XCTAssertNil(row.error, row.label)
            XCTAssertEqual(row.nfe, row.steps, row.label)
            XCTAssertEqual(row.metrics?.nFake, 6, row.label)
            XCTAssertEqual(row.metrics?.nReal, 12, row.label)
            XCTAssertTrue(row.metrics.map { $0.fid.isFinite && $0.fid > 0 } == true, row.label)
            let grid = try PNG.read(from: out.appendingPathComponent(try XCTUnwrap(row.grid)), channels: 1)
            XCTAssertGreaterThan(grid.width, 8 * 2, row.label)
        }
        for file in ["report.csv", "report.md", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let csvLines = try String(contentsOf: out.appendingPathComponent("report.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csvLines.count, 4)

        // --render-only writes the same reports again from report.json and the grids
        let html = try Data(contentsOf: out.appendingPathComponent("report.html"))
        for file in ["report.csv", "report.md", "report.html"] {
            try FileManager.default.removeItem(at: out.appendingPathComponent(file))
        }
        var render = try Diffuse.parseAsRoot(["compare", "--render-only", "--out", out.path])
        try render.run()
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("report.html")), html)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.md").path))

        var nothing = try Diffuse.parseAsRoot(["compare", "--render-only", "--out", root.appendingPathComponent("none").path])
        XCTAssertThrowsError(try nothing.run()) { error in
            XCTAssertTrue("\(error)".contains("report.json: cannot be read"), "\(error)")
        }
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["compare", "--out", out.path, "--real", root.path]))

        // Every row failing is a failure of the command (the reports still say why).
        var allFail = try Diffuse.parseAsRoot([
            "compare", "--model", model.path, "--real", real.path, "--schedulers", "ddpm:500,ddim:1000000000",
            "--count", "6", "--features", "pixels", "--out", root.appendingPathComponent("all-fail").path,
        ])
        XCTAssertThrowsError(try allFail.run()) { XCTAssertTrue("\($0)".contains("every row failed"), "\($0)") }
        XCTAssertEqual(try readReport(root.appendingPathComponent("all-fail")).rows.compactMap(\.error).count, 2)
    }

    /// A row of compare measures exactly what `sample` then `evaluate` measure on the same
    /// seed: the same images (same noise per image index), the same features and metrics.
    func testRowMatchesSampleThenEvaluate() throws {
        let model = try saveTinyModel(under: root), real = try writeRandomImages(under: root, name: "real", count: 10)
        let out = root.appendingPathComponent("report"), samples = root.appendingPathComponent("samples")
        var compare = try Diffuse.parseAsRoot([
            "compare", "--model", model.path, "--real", real.path, "--schedulers", "ddim:4", "--count", "5",
            "--batch-size", "2", "--seed", "7", "--features", "random", "--out", out.path,
        ])
        try compare.run()
        var sample = try Diffuse.parseAsRoot([
            "sample", "--model", model.path, "--out", samples.path, "--scheduler", "ddim", "--steps", "4",
            "--count", "5", "--batch-size", "3", "--seed", "7",
        ])
        try sample.run()
        let json = root.appendingPathComponent("evaluation.json")
        var evaluate = try Diffuse.parseAsRoot([
            "evaluate", "--real", real.path, "--fake", samples.path, "--features", "random", "--seed", "7", "--json", json.path,
        ])
        try evaluate.run()

        let row = try XCTUnwrap(try readReport(out).rows.first?.metrics)
        let evaluated = try JSONDecoder().decode(EvaluationResult.self, from: Data(contentsOf: json))
        XCTAssertEqual(row.fid, evaluated.fid, accuracy: 1e-9)
        XCTAssertEqual(row.kid, evaluated.kid, accuracy: 1e-12)
        XCTAssertEqual(row.precision, evaluated.precision)
        XCTAssertEqual(row.recall, evaluated.recall)
        XCTAssertEqual(row.density, evaluated.density, accuracy: 1e-12)
        XCTAssertEqual(row.coverage, evaluated.coverage)
        XCTAssertNotNil(row.pixels)
        XCTAssertEqual(row.pixels, evaluated.pixels, "the same pixel statistics and floor")
        XCTAssertEqual(row.warnings, evaluated.warnings)
    }

    /// --guidance crosses every sampler row with each scale: rows, grids, the precision/recall
    /// chart, each row's TSTR accuracy on --tstr-test; a model without a "no class" row is refused.
    func testGuidanceSweep() throws {
        let guided = try saveTinyModel(under: root, name: "guided", classNames: ["a", "b"], guidance: true)
        let real = try writeRandomImages(under: root, name: "real", count: 12)
        let test = root.appendingPathComponent("test")
        for name in ["a", "b"] {
            try FileManager.default.moveItem(at: try writeRandomImages(under: root, name: "test-\(name)", count: 5),
                                             to: test.appendingPathComponent(name, isDirectory: true).creatingParent())
        }
        let out = root.appendingPathComponent("sweep")
        var command = try Diffuse.parseAsRoot([
            "compare", "--model", guided.path, "--real", real.path, "--schedulers", "ddim:2", "--guidance", "1,3",
            "--count", "6", "--batch-size", "3", "--features", "random", "--out", out.path,
            "--tstr-test", test.path, "--tstr-epochs", "1",
        ])
        try command.run()
        let report = try readReport(out)
        XCTAssertEqual(report.rows.map(\.label), ["ddim:2 w=1", "ddim:2 w=3"])
        XCTAssertEqual(report.rows.map(\.grid), ["grids/ddim-2-w1.png", "grids/ddim-2-w3.png"])
        XCTAssertNotEqual(report.rows[0].metrics?.fid, report.rows[1].metrics?.fid)
        for row in report.rows {
            // A share of the 10 test images.
            let correct = try XCTUnwrap(row.tstrAccuracy, row.label) * 10
            XCTAssertEqual(correct, correct.rounded(), accuracy: 1e-9, row.label)
            XCTAssertTrue((0...10).contains(correct), row.label)
        }
        XCTAssertEqual(report.tstrTest, test.path)
        XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
            .contains("Precision, recall and TSTR accuracy against the guidance scale"))
        XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("report.csv"), encoding: .utf8).contains("tstr_accuracy"))

        var unconditional = try Diffuse.parseAsRoot([
            "compare", "--model", try saveTinyModel(under: root, name: "unconditional").path, "--real", real.path,
            "--schedulers", "ddim:2", "--count", "6", "--features", "random", "--out", root.appendingPathComponent("u").path,
            "--tstr-test", test.path,
        ])
        XCTAssertThrowsError(try unconditional.run()) { XCTAssertTrue("\($0)".contains("is not class-conditional"), "\($0)") }
        var otherClasses = try Diffuse.parseAsRoot([
            "compare", "--model", try saveTinyModel(under: root, name: "xy", classNames: ["x", "y"]).path, "--real", real.path,
            "--schedulers", "ddim:2", "--count", "6", "--features", "random", "--out", root.appendingPathComponent("xy").path,
            "--tstr-test", test.path,
        ])
        XCTAssertThrowsError(try otherClasses.run()) { XCTAssertTrue("\($0)".contains("\(test.path): its classes"), "\($0)") }

        let plain = try saveTinyModel(under: root, name: "plain", classNames: ["a", "b"])
        var refused = try Diffuse.parseAsRoot([
            "compare", "--model", plain.path, "--real", real.path, "--schedulers", "ddim:2", "--guidance", "2",
            "--count", "6", "--features", "random", "--out", root.appendingPathComponent("refused").path,
        ])
        XCTAssertThrowsError(try refused.run()) { XCTAssertTrue("\($0)".contains("has no \"no class\" row"), "\($0)") }
        for bad in ["x", "1,1", "-1", "inf"] {
            XCTAssertThrowsError(try Compare.parseScales(bad), bad)
        }
    }

    func testSchedulerListErrors() {
        for (list, expected) in [("ddim", "not sampler:steps"), ("foo:10", "'foo' is not a sampler"),
                                 ("ddim:0", "steps must be positive"), ("ddim:5, ddim:5", "comes twice"),
                                 ("ddim:x", "not sampler:steps"), ("", "no rows"), ("ddim-karras:5", "is not a sampler")] {
            XCTAssertThrowsError(try Compare.parseRows(list), list) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(list): \(error)")
            }
        }
        XCTAssertEqual(try Compare.parseRows("ddim:50, euler-karras:10").map(\.label), ["ddim:50", "euler-karras:10"])
    }
}

private extension URL {
    /// This URL, after creating its parent folder.
    func creatingParent() throws -> URL {
        try FileManager.default.createDirectory(at: deletingLastPathComponent(), withIntermediateDirectories: true)
        return self
    }
}
