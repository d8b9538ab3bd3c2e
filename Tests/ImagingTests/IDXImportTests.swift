import Foundation
import NN
import XCTest
@testable import Imaging

final class IDXImportTests: XCTestCase {
    func testWritesClassFoldersInFileOrder() throws {
        let out = try temporaryFolder(self).appendingPathComponent("out")
        let images = IDXArray(shape: [3, 2, 2], values: Array(0..<12))
        let labels = IDXArray(shape: [3], values: [1, 0, 1])
        let counts = try IDXImport.write(images: images, labels: labels, imagesPath: "i", labelsPath: "l",
                                         classNames: ["T-shirt/top", "Trouser"], out: out)
        XCTAssertEqual(counts, ["T-shirt-top": 1, "Trouser": 2])
        let second = try PNG.read(from: out.appendingPathComponent("T-shirt-top/000001.png"), channels: 1)
        XCTAssertEqual(second.pixels, [4, 5, 6, 7])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("Trouser").path).sorted(),
                       ["000000.png", "000002.png"])
        // The tree reads back as a dataset with the images in file order within each class.
        let dataset = try ImageDataset.load(folder: out, resolution: 2, channels: 1)
        XCTAssertEqual(dataset.classNames, ["T-shirt-top", "Trouser"])
        XCTAssertEqual(dataset.labels, [0, 1, 1])
    }

    func testDefaultNamesLimitAndRefusals() throws {
        let root = try temporaryFolder(self)
        let images = IDXArray(shape: [12, 1, 1], values: Array(0..<12))
        let labels = IDXArray(shape: [12], values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        let counts = try IDXImport.write(images: images, labels: labels, imagesPath: "i", labelsPath: "l",
                                         classNames: nil, out: root.appendingPathComponent("numbers"), limit: 11)
        XCTAssertEqual(counts.keys.sorted(), (0...10).map { String(format: "%02d", $0) }, "zero-padded so names sort as numbers")

        assertFileError(try IDXImport.write(images: images, labels: labels, imagesPath: "i", labelsPath: "l",
                                            classNames: nil, out: root.appendingPathComponent("numbers")),
                        path: "numbers", reason: "not empty")
        assertFileError(try IDXImport.write(images: images, labels: IDXArray(shape: [2], values: [0, 1]), imagesPath: "i",
                                            labelsPath: "labels.idx", classNames: nil, out: root.appendingPathComponent("a")),
                        path: "labels.idx", reason: "2 labels for 12 images")
        assertFileError(try IDXImport.write(images: images, labels: labels, imagesPath: "i", labelsPath: "labels.idx",
                                            classNames: ["x", "y"], out: root.appendingPathComponent("b")),
                        path: "labels.idx", reason: "only 2 class names")
        assertFileError(try IDXImport.write(images: IDXArray(shape: [12], values: Array(0..<12)), labels: labels,
                                            imagesPath: "images.idx", labelsPath: "l", classNames: nil,
                                            out: root.appendingPathComponent("c")),
                        path: "images.idx", reason: "expected (N, H, W)")
    }
}
