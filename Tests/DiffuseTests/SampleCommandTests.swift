import Foundation
import Diffusion
import Imaging
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
        // The whole run's folder also holds its lock file (hidden: no image reader lists it).
        let names = try FileManager.default.contentsOfDirectory(atPath: whole.path).filter { $0 != FolderLock.fileName }.sorted()
        XCTAssertEqual(names, (0..<7).map { String(format: "%06d.png", $0) })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: shards.path).sorted(), names)
        for name in names {
            XCTAssertEqual(try Data(contentsOf: whole.appendingPathComponent(name)), try Data(contentsOf: shards.appendingPathComponent(name)), name)
        }
        XCTAssertEqual(Shard(argument: "1/3")?.images(of: 7), 2..<4)
        for bad in ["3/3", "-1/2", "1", "a/b", "0/0"] { XCTAssertNil(Shard(argument: bad), bad) }
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", shards.path, "--count", "2", "--shard", "0/3"]))
    }

    /// --per-class and --class-counts write class folders that load as labelled data; image i
    /// of a class is the same whatever else is asked; bad counts and names are refused.
    func testLabelledSets() throws {
        let model = try saveTinyModel(under: root, name: "conditional", classNames: ["bag", "coat", "shirt"])
        let even = root.appendingPathComponent("even"), mix = root.appendingPathComponent("mix")
        func sample(_ out: URL, _ extra: [String]) throws {
            var command = try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", out.path, "--steps", "3", "--seed", "9"] + extra)
            try command.run()
        }
        try sample(even, ["--per-class", "2", "--grid", root.appendingPathComponent("grid.png").path])
        try sample(mix, ["--class-counts", "coat=3,0=1", "--batch-size", "2"])
        let set = try ImageDataset.load(folder: even, resolution: 8, channels: 1)
        XCTAssertEqual(set.classNames, ["bag", "coat", "shirt"])
        XCTAssertEqual(set.labels, [0, 0, 1, 1, 2, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mix.appendingPathComponent("coat").path).sorted(),
                       ["000000.png", "000001.png", "000002.png"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mix.appendingPathComponent("bag").path), ["000000.png"])
        for name in ["coat/000000.png", "coat/000001.png", "bag/000000.png"] {
            XCTAssertEqual(try Data(contentsOf: even.appendingPathComponent(name)), try Data(contentsOf: mix.appendingPathComponent(name)), name)
        }
        // One column a class, two rows of 8-pixel images with 2-pixel gaps: 32 x 22, and three
        // times that with --grid-scale 3, each pixel a 3 x 3 block.
        let grid = try PNG.read(from: root.appendingPathComponent("grid.png"), channels: 1)
        XCTAssertEqual([grid.width, grid.height], [32, 22])
        let scaled = root.appendingPathComponent("scaled")
        try sample(scaled, ["--per-class", "2", "--grid", root.appendingPathComponent("grid3.png").path, "--grid-scale", "3"])
        XCTAssertEqual(try PNG.read(from: root.appendingPathComponent("grid3.png"), channels: 1), grid.magnified(by: 3))
        XCTAssertThrowsError(try sample(root.appendingPathComponent("no"), ["--grid-scale", "0"]))

        let refused = root.appendingPathComponent("refused")
        for (extra, message) in [(["--class-counts", "hat=2"], "'hat' is not a class"), (["--class-counts", "coat=0"], "must be positive"),
                                 (["--class-counts", "coat=2,coat=1"], "comes twice"), (["--class-counts", "coat"], "is not NAME=N")] {
            XCTAssertThrowsError(try sample(refused, extra)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path), "nothing written")
        let unconditional = try saveTinyModel(under: root, name: "plain")
        var plain = try Diffuse.parseAsRoot(["sample", "--model", unconditional.path, "--out", refused.path, "--per-class", "2"])
        XCTAssertThrowsError(try plain.run()) { XCTAssertTrue("\($0)".contains("is not a class-conditional model"), "\($0)") }
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", refused.path, "--per-class", "2",
                                                      "--class-counts", "coat=1"]))
    }

    /// --guidance-scale needs a "no class" row; with one, W = 1 is plain sampling and W = 3 is not.
    func testGuidanceScale() throws {
        let guided = try saveTinyModel(under: root, name: "guided", classNames: ["bag", "coat"], guidance: true)
        let names = try JSONSerialization.jsonObject(with: Data(contentsOf: guided.appendingPathComponent("class_names.json"))) as? [Any]
        XCTAssertEqual(names?.count, 3)
        XCTAssertTrue(names?.last is NSNull, "the null row is marked")
        XCTAssertEqual(try ModelFolder(guided).load().classNames, ["bag", "coat"])
        let plain = try sample(guided, ["--count", "2"])
        XCTAssertEqual(try sample(guided, ["--guidance-scale", "1"]), plain)
        XCTAssertNotEqual(try sample(guided, ["--guidance-scale", "3"]), plain)

        let noNullRow = try saveTinyModel(under: root, name: "conditional", classNames: ["bag", "coat"])
        XCTAssertThrowsError(try sample(noNullRow, ["--guidance-scale", "3"])) { error in
            XCTAssertTrue("\(error)".contains("has no \"no class\" row to guide with"), "\(error)")
        }
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["sample", "--model", guided.path, "--out", root.path, "--guidance-scale", "nan"]))
    }

    /// Values that cannot be drawn stop sampling with the step named, before anything is written;
    /// a count beyond memory and an eta beyond 1 are refused before any work.
    func testNonFiniteSamplesAndImpossibleCountsAreRefused() throws {
        let model = try saveTinyModel(under: root)
        let latents = root.appendingPathComponent("nan.npy"), out = root.appendingPathComponent("nan-images")
        var values = Tensor.randn([1, 1, 8, 8], seed: 1).scalars
        values[5] = .nan
        try Npy.write(Tensor(shape: [1, 1, 8, 8], values), to: latents)
        var command = try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", out.path, "--count", "1", "--steps", "2",
                                               "--latents", latents.path])
        XCTAssertThrowsError(try command.run()) { XCTAssertTrue("\($0)".contains("not finite after step 1 of 2"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))

        var huge = try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", out.path, "--count", "1000000000000"])
        XCTAssertThrowsError(try huge.run()) { XCTAssertTrue("\($0)".contains("--count 1000000000000: the images take"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", out.path, "--eta", "2"]))
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["sample", "--model", model.path, "--out", out.path, "--eta", "nan"]))
    }
}
