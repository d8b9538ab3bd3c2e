import ArgumentParser
import Evaluation
import Foundation
import Imaging
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

    /// Generated images evaluated in two shards, their features merged, give the numbers of
    /// the one-machine evaluation.
    func testMergedShardFeaturesEqualTheWholeEvaluation() throws {
        let real = try writeRandomImages(under: root, name: "real", count: 24)
        let all = try writeRandomImages(under: root, name: "fake", count: 10)
        let parts = [root.appendingPathComponent("part0"), root.appendingPathComponent("part1")]
        for (index, file) in try FileManager.default.contentsOfDirectory(atPath: all.path).sorted().enumerated() {
            let part = parts[index < 6 ? 0 : 1]
            try FileManager.default.createDirectory(at: part, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: all.appendingPathComponent(file), to: part.appendingPathComponent(file))
        }
        let whole = root.appendingPathComponent("whole.json"), merged = root.appendingPathComponent("merged.json")
        let realNpy = root.appendingPathComponent("real.npy")
        var one = try Diffuse.parseAsRoot(["evaluate", "--real", real.path, "--fake", all.path, "--features", "random",
                                           "--json", whole.path, "--real-features-out", realNpy.path])
        try one.run()
        var npys: [String] = []
        for (i, part) in parts.enumerated() {
            let npy = root.appendingPathComponent("fake\(i).npy").path
            var shard = try Diffuse.parseAsRoot(["evaluate", "--real", real.path, "--fake", part.path, "--features", "random",
                                                 "--fake-features-out", npy])
            try shard.run()
            npys.append(npy)
        }
        var merge = try Diffuse.parseAsRoot(["evaluate", "--real-features", realNpy.path, "--fake-features", npys.joined(separator: ","),
                                             "--json", merged.path])
        try merge.run()
        let a = try JSONDecoder().decode(EvaluationResult.self, from: Data(contentsOf: whole))
        let b = try JSONDecoder().decode(EvaluationResult.self, from: Data(contentsOf: merged))
        XCTAssertEqual(b.nFake, 10)
        XCTAssertEqual([a.fid, a.kid, a.precision, a.recall, a.density, a.coverage], [b.fid, b.kid, b.precision, b.recall, b.density, b.coverage])
        XCTAssertEqual(a.floor, b.floor)
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["evaluate", "--real-features", realNpy.path, "--fake-features", npys[0],
                                                      "--fake-features-out", "x.npy"]))
    }

    /// With a classifier evaluator and class folders on both sides, the report gives the share
    /// of images the evaluator files under their own folder's class, generated and real. Real:
    /// the ten Fashion-MNIST fixtures (one a class), three times over with a pixel changed;
    /// generated: the same ten, each in the next class's folder, so that none agrees.
    func testClassAgreementWithClassFolders() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL
        let fixtures = repository.appendingPathComponent("Tests/Fixtures/fashion-mnist/test-10")
        let classes = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertEqual(classes.count, 10)
        let real = root.appendingPathComponent("real-classes"), fake = root.appendingPathComponent("fake-classes")
        for (index, name) in classes.enumerated() {
            let folder = fixtures.appendingPathComponent(name)
            let file = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".png") })
            let image = try PNG.read(from: folder.appendingPathComponent(file), channels: 1)
            for copy in 0..<3 {
                var changed = image
                changed.pixels[copy] = changed.pixels[copy] &+ 1
                try FileManager.default.createDirectory(at: real.appendingPathComponent(name), withIntermediateDirectories: true)
                try PNG.write(changed, to: real.appendingPathComponent(name).appendingPathComponent("\(copy).png"))
            }
            let next = fake.appendingPathComponent(classes[(index + 1) % classes.count])
            try FileManager.default.createDirectory(at: next, withIntermediateDirectories: true)
            try PNG.write(image, to: next.appendingPathComponent("0.png"))
        }
        let json = root.appendingPathComponent("agreement.json")
        var evaluate = try Diffuse.parseAsRoot([
            "evaluate", "--real", real.path, "--fake", fake.path, "--json", json.path,
            "--evaluator", repository.appendingPathComponent("Models/fashion-mnist-evaluator-v2").path,
        ])
        try evaluate.run()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let realAgreement = try XCTUnwrap(object["real_class_agreement"] as? Double)
        let fakeAgreement = try XCTUnwrap(object["class_agreement"] as? Double)
        XCTAssertGreaterThanOrEqual(realAgreement, 0.9, "the evaluator on real images")
        XCTAssertLessThanOrEqual(fakeAgreement, 0.1, "images in the wrong class folders")
    }

    /// A --fake folder without a single PNG, and train-evaluator's hostile flags and an existing
    /// --out, get one-line errors (the first was an index out of range).
    func testEmptyFakeFolderAndHostileEvaluatorFlagsAreRefused() throws {
        let real = try writeRandomImages(under: root, name: "real-none", count: 3)
        let empty = root.appendingPathComponent("no-pngs")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try Data("not a png".utf8).write(to: empty.appendingPathComponent("notes.txt"))
        var command = try Diffuse.parseAsRoot(["evaluate", "--real", real.path, "--fake", empty.path, "--features", "random"])
        XCTAssertThrowsError(try command.run()) { XCTAssertTrue("\($0)".contains("\(empty.path): no PNG images found"), "\($0)") }

        for bad in [["--resolution", "0"], ["--resolution", "100000"], ["--learning-rate", "nan"]] {
            XCTAssertThrowsError(try Diffuse.parseAsRoot(["train-evaluator", "--data", real.path, "--out", "x"] + bad), "\(bad)")
        }
        let existing = root.appendingPathComponent("existing-evaluator")
        try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: existing.appendingPathComponent("config.json"))
        var overwrite = try Diffuse.parseAsRoot(["train-evaluator", "--data", real.path, "--out", existing.path])
        XCTAssertThrowsError(try overwrite.run()) { XCTAssertTrue("\($0)".contains("already holds an evaluator"), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: existing.appendingPathComponent("config.json")), Data("{}".utf8))
    }
}
