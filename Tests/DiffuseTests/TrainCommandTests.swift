import Diffusion
import Foundation
import XCTest
@testable import diffuse

/// `diffuse train` end to end on a tiny config and random images.
final class TrainCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try temporaryFolder(for: self)
    }

    private func run(_ arguments: [String]) throws {
        var command = try Diffuse.parseAsRoot(["train"] + arguments)
        try command.run()
    }

    /// The cadence is kept in the run's saved options, so a resumed run goes on with it (the
    /// sample grids themselves, 800 model calls each, would make this test slow in a debug build).
    func testResumedRunKeepsItsCadenceUnlessTold() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 4)
        let config = root.appendingPathComponent("unet.json")
        try tinyUNetConfig().jsonData().write(to: config)
        let out = root.appendingPathComponent("run")
        let saved = { try Trainer.savedRun(in: ModelFolder(out)).options }

        try run(["--data", data.path, "--out", out.path, "--config", config.path, "--steps", "1", "--batch-size", "2",
                 "--sample-every", "5", "--checkpoint-every", "7"])
        XCTAssertEqual(try saved().sampleEvery, 5)
        XCTAssertEqual(try saved().checkpointEvery, 7)
        try run(["--out", out.path, "--resume", "--steps", "2"])
        XCTAssertEqual(try saved().sampleEvery, 5, "the resumed run forgot --sample-every")
        XCTAssertEqual(try saved().checkpointEvery, 7, "the resumed run forgot --checkpoint-every")
        try run(["--out", out.path, "--resume", "--steps", "3", "--sample-every", "0"])
        XCTAssertEqual(try saved().sampleEvery, 0, "--sample-every given on resume was not used")
    }

    /// Class folders train a guidance model by default (a "no class" row after the classes,
    /// marked in class_names.json); --class-dropout 0 trains a plain conditional one.
    func testClassFoldersTrainAGuidanceModel() throws {
        let data = root.appendingPathComponent("classes")
        for name in ["bag", "coat"] {
            let folder = try writeRandomImages(under: data, name: name, count: 2)
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path))
        }
        let guided = root.appendingPathComponent("guided"), plain = root.appendingPathComponent("plain")
        let common = ["--data", data.path, "--resolution", "8", "--channels", "1", "--steps", "1", "--batch-size", "2"]
        try run(common + ["--out", guided.path])
        try run(common + ["--out", plain.path, "--class-dropout", "0"])
        let (guidedModel, _, guidedNames) = try ModelFolder(guided).load()
        XCTAssertEqual(guidedModel.classCount, 3)
        XCTAssertEqual(guidedNames, ["bag", "coat"])
        XCTAssertEqual(guidedModel.classes(named: guidedNames)?.nullLabel, 2)
        XCTAssertEqual(try Trainer.savedRun(in: ModelFolder(guided)).options.classDropout, 0.1)
        let (plainModel, _, plainNames) = try ModelFolder(plain).load()
        XCTAssertEqual(plainModel.classCount, 2)
        XCTAssertNil(plainModel.classes(named: plainNames)?.nullLabel)
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["train"] + common + ["--out", plain.path, "--class-dropout", "1"]))
    }
}
