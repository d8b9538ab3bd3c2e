import Foundation
import Imaging
import NN
import XCTest
@testable import diffuse

/// `diffuse tstr` on dark-vs-bright images, which any classifier learns.
final class TrainOnSyntheticCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws { root = try temporaryFolder(for: self) }

    /// Class folders "bright" and "dark" of `count` noisy 8x8 images each.
    private func folder(_ name: String, count: Int, seed: UInt64, classes: [String] = ["bright", "dark"]) throws -> URL {
        let folder = root.appendingPathComponent(name)
        for (c, label) in classes.enumerated() {
            let classFolder = folder.appendingPathComponent(label)
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            for i in 0..<count {
                let noise = Tensor.rand([64], seed: seed &+ UInt64(100 * c + i)).scalars
                let pixels = noise.map { UInt8((c == 0 ? 160 : 10) + $0 * 80) }
                try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: pixels), to: classFolder.appendingPathComponent("\(i).png"))
            }
        }
        return folder
    }

    func testEveryScoreIsReportedAndEasyClassesAreLearned() throws {
        let (train, synthetic, test) = (try folder("train", count: 20, seed: 1), try folder("synthetic", count: 10, seed: 2),
                                        try folder("test", count: 8, seed: 3))
        let json = root.appendingPathComponent("tstr.json"), html = root.appendingPathComponent("tstr.html")
        let confusion = root.appendingPathComponent("confusion.png")
        var command = try Diffuse.parseAsRoot(["tstr", "--train", train.path, "--synthetic", synthetic.path, "--test", test.path,
                                               "--seeds", "2", "--epochs", "4", "--width", "8", "--batch-size", "8", "--low-data", "0.25",
                                               "--json", json.path, "--html", html.path, "--confusion", confusion.path])
        try command.run()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        for key in ["trtr", "tstr", "augmented", "low_data_real", "low_data_augmented"] {
            let score = try XCTUnwrap(object[key] as? [String: Any], key)
            let mean = try XCTUnwrap(score["mean"] as? Double, key)
            XCTAssertTrue((0...1).contains(mean), key)
            XCTAssertEqual((score["runs"] as? [Double])?.count, 2, key)
            XCTAssertNotNil(score["std"] as? Double, key)
            XCTAssertEqual((score["per_class"] as? [Double])?.count, 2, key)
        }
        XCTAssertGreaterThanOrEqual((object["trtr"] as? [String: Any])?["mean"] as? Double ?? 0, 0.9, "dark vs bright is easy")
        XCTAssertGreaterThanOrEqual((object["tstr"] as? [String: Any])?["mean"] as? Double ?? 0, 0.9)
        XCTAssertEqual(object["low_data_fraction"] as? Double, 0.25)
        let matrix = try XCTUnwrap(object["tstr_confusion"] as? [[Int]])
        XCTAssertEqual(matrix.map { $0.reduce(0, +) }, [8, 8], "each true class's test images")
        XCTAssertEqual(try PNG.read(from: confusion, channels: 3).width, 40)
        XCTAssertTrue(try String(contentsOf: html, encoding: .utf8).contains("data:image/png;base64,"))
    }

    func testFoldersWithOtherClassesAreRefused() throws {
        let train = try folder("train", count: 2, seed: 1), test = try folder("test", count: 2, seed: 3)
        let other = try folder("other", count: 2, seed: 2, classes: ["bright", "gray"])
        var command = try Diffuse.parseAsRoot(["tstr", "--train", train.path, "--synthetic", other.path, "--test", test.path,
                                               "--json", root.appendingPathComponent("x.json").path])
        XCTAssertThrowsError(try command.run()) { error in
            XCTAssertTrue("\(error)".contains("\(other.path): its classes [\"bright\", \"gray\"] differ"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("x.json").path))
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["tstr", "--train", train.path, "--synthetic", other.path, "--test", test.path,
                                                      "--low-data", "0"]))
    }
}
