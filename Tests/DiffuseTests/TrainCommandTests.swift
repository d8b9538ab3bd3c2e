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
}
