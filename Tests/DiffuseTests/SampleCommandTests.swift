import Foundation
import NN
import XCTest
@testable import diffuse

/// `diffuse sample` end to end on a tiny random-weight model.
final class SampleCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try temporaryFolder(for: self)
    }

    /// Samples 2 images with DDIM in 4 steps and returns them in model space.
    private func sample(_ model: URL, _ extra: [String] = []) throws -> [Float] {
        let raw = root.appendingPathComponent("raw-\(UUID().uuidString).npy")
        var command = try Diffuse.parseAsRoot([
            "sample", "--model", model.path, "--out", root.appendingPathComponent("images").path,
            "--scheduler", "ddim", "--steps", "4", "--count", "2", "--raw", raw.path,
        ] + extra)
        try command.run()
        return try Npy.read(from: raw).tensor().scalars
    }

    func testTimestepSpacingFlagActsAsTheConfigKey() throws {
        let leading = try saveTinyModel(under: root, name: "leading", spacing: "leading")
        let trailing = try saveTinyModel(under: root, name: "trailing", spacing: "trailing")
        let asSaved = try sample(trailing)
        XCTAssertEqual(try sample(leading, ["--timestep-spacing", "trailing"]), asSaved)
        XCTAssertNotEqual(try sample(leading), asSaved, "the spacing made no difference, so the test shows nothing")
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["sample", "--model", leading.path, "--out", root.path,
                                                      "--timestep-spacing", "karras"]))
    }

    /// Three shards written into one folder make the files of the whole run, byte for byte,
    /// with the same names, with different batch sizes; a bad --shard is refused.
    func testShardsMakeTheWholeRun() throws {
        let model = try saveTinyModel(under: root)
        let whole = root.appendingPathComponent("whole"), shards = root.appendingPathComponent("shards")
        var command = try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", whole.path, "--steps", "3", "--count", "7",
                                               "--batch-size", "4", "--seed", "5"])
        try command.run()
        for (i, batch) in [(0, "1"), (1, "2"), (2, "3")] {
            var part = try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", shards.path, "--steps", "3", "--count", "7",
                                                "--batch-size", batch, "--seed", "5", "--shard", "\(i)/3"])
            try part.run()
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: whole.path).sorted()
        XCTAssertEqual(names, (0..<7).map { String(format: "%06d.png", $0) })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: shards.path).sorted(), names)
        for name in names {
            XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent(name)), try Data(contentsOf: shards.appendingPathComponent(name)), name)
        }
        XCTAssertEqual(Shard(argument: "1/3")?.images(of: 7), 2..<4)
        for bad in ["3/3", "-1/2", "1", "a/b", "0/0"] { XCTAssertNil(Shard(argument: bad), bad) }
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", shards.path, "--count", "2", "--shard", "0/3"]))
    }
}
