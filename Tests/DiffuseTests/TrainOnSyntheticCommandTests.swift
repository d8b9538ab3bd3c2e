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
        XCTAssertEqual(object["confusion_setting"] as? String, "tstr")
        let matrix = try XCTUnwrap(object["confusion"] as? [[Int]])
        XCTAssertEqual(matrix.map { $0.reduce(0, +) }, [8, 8], "each true class's test images")
        XCTAssertEqual(try PNG.read(from: confusion, channels: 3).width, 40)
        XCTAssertTrue(try String(contentsOf: html, encoding: .utf8).contains("data:image/png;base64,"))
    }

    /// A synthetic set of some classes (topping up a rare one) is mixed in by class name; TSTR,
    /// which could not learn the missing class, is not run.
    func testSyntheticSetOfSomeClassesTopsThemUp() throws {
        let (train, test) = (try folder("train", count: 12, seed: 1), try folder("test", count: 6, seed: 3))
        let synthetic = try folder("synthetic", count: 6, seed: 2, classes: ["dark"])
        let json = root.appendingPathComponent("tstr.json"), markdown = root.appendingPathComponent("tstr.md")
        var command = try Diffuse.parseAsRoot(["tstr", "--train", train.path, "--synthetic", synthetic.path, "--test", test.path,
                                               "--seeds", "1", "--epochs", "3", "--width", "8", "--batch-size", "8",
                                               "--json", json.path, "--markdown", markdown.path])
        try command.run()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        XCTAssertNil(object["tstr"])
        XCTAssertNil(object["tstr_over_trtr"])
        XCTAssertEqual(object["synthetic_classes"] as? [String], ["dark"])
        XCTAssertEqual(object["n_synthetic"] as? Int, 6)
        XCTAssertEqual(object["confusion_setting"] as? String, "augmented")
        let matrix = try XCTUnwrap(object["confusion"] as? [[Int]])
        XCTAssertEqual(matrix.map { $0.reduce(0, +) }, [6, 6])
        let augmented = try XCTUnwrap(object["augmented"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(augmented["mean"] as? Double ?? 0, 0.9, "dark vs bright is easy")
        let text = try String(contentsOf: markdown, encoding: .utf8)
        XCTAssertTrue(text.contains("holds 1 of the 2 classes (dark), so TSTR is not run"), text)
        XCTAssertFalse(text.contains("| TSTR |"), text)
    }

    func testFoldersWithOtherClassesAreRefused() throws {
        let train = try folder("train", count: 2, seed: 1), test = try folder("test", count: 2, seed: 3)
        let other = try folder("other", count: 2, seed: 2, classes: ["bright", "gray"])
        var command = try Diffuse.parseAsRoot(["tstr", "--train", train.path, "--synthetic", other.path, "--test", test.path,
                                               "--json", root.appendingPathComponent("x.json").path])
        XCTAssertThrowsError(try command.run()) { error in
            XCTAssertTrue("\(error)".contains("\(other.path): its classes [\"gray\"] are not among [\"bright\", \"dark\"]"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("x.json").path))
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["tstr", "--train", train.path, "--synthetic", other.path, "--test", test.path,
                                                      "--low-data", "0"]))
    }
}
