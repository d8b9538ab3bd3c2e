import ArgumentParser
import Evaluation
import Foundation
import XCTest
@testable import diffuse

/// `diffuse evaluate` end to end: pixel statistics, the floor and --calibrate.
final class EvaluateCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try temporaryFolder(for: self)
        setenv("DIFFUSE_CACHE", root.appendingPathComponent("cache").path, 1)
    }

    func testReportHasPixelStatisticsFloorAndWarnings() throws {
        let real = try writeRandomImages(under: root, name: "real", count: 24)
        let fake = try writeRandomImages(under: root, name: "fake", count: 8)
        let json = root.appendingPathComponent("report.json"), markdown = root.appendingPathComponent("report.md")
        var evaluate = try Diffuse.parseAsRoot([
            "evaluate", "--real", real.path, "--fake", fake.path, "--features", "random", "--json", json.path,
            "--markdown", markdown.path,
        ])
        try evaluate.run()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let pixels = try XCTUnwrap(object["pixels"] as? [String: Any])
        XCTAssertNotNil((pixels["difference"] as? [String: Any])?["wasserstein_1"])
        XCTAssertEqual((pixels["floor"] as? [String: Any])?["images"] as? Int, 8)
        XCTAssertNotNil(object["warnings"] as? [String])
        XCTAssertEqual((object["floor"] as? [String: Any])?["images"] as? Int, 8)
        let text = try String(contentsOf: markdown, encoding: .utf8)
        XCTAssertTrue(text.contains("| metric | value | real vs real (8 held out vs 16) |"), text)
        XCTAssertTrue(text.contains("| values at 0 |"), text)
    }

    func testCalibrateWritesTheLadder() throws {
        let real = try writeRandomImages(under: root, name: "real", count: 20)
        let json = root.appendingPathComponent("ladder.json"), chart = root.appendingPathComponent("ladder.svg")
        var evaluate = try Diffuse.parseAsRoot([
            "evaluate", "--calibrate", "--real", real.path, "--features", "pixels", "--count", "8", "--json", json.path,
            "--chart", chart.path,
        ])
        try evaluate.run()
        let report = try JSONDecoder().decode(Calibration.Report.self, from: Data(contentsOf: json))
        XCTAssertEqual(report.images, 8)
        XCTAssertNil(report.otherClass, "an unlabelled folder has no class to mix in")
        XCTAssertEqual(report.rows.count, 1 + 5 * 4)
        XCTAssertTrue(try String(contentsOf: chart, encoding: .utf8).hasPrefix("<svg"))

        for arguments in [["--calibrate", "--real", real.path, "--fake", real.path],
                          ["--calibrate"], ["--real", real.path, "--fake", real.path, "--chart", "x.svg"]] {
            XCTAssertThrowsError(try Diffuse.parseAsRoot(["evaluate"] + arguments), "\(arguments)")
        }
    }
}
