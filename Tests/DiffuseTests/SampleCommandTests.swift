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
}
