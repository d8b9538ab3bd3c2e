import Foundation
import NN
import XCTest
@testable import Imaging

/// Image folders as datasets: layout rules, preprocessing, and every kind of bad input.
final class DatasetTests: XCTestCase {
    private let bad = fixtureFolder.appendingPathComponent("png/bad")

    /// Writes a gray image of `side` x `side` filled with `value` as a PNG at `folder/name`.
    private func writeImage(_ folder: URL, _ name: String, side: Int = 4, value: UInt8 = 0, channels: Int = 1) throws {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try PNG.write(Image(width: side, height: side, channels: channels,
                            pixels: [UInt8](repeating: value, count: side * side * channels)), to: url)
    }

    private func copyBad(_ name: String, to folder: URL, as newName: String) throws {
        try FileManager.default.copyItem(at: bad.appendingPathComponent(name), to: folder.appendingPathComponent(newName))
    }

    func testClassFoldersAreSortedLabelsAndOtherFilesAreCounted() throws {
        let root = try temporaryFolder(self)
        try writeImage(root, "dog/b.png", value: 255)
        try writeImage(root, "dog/nested/a.png", value: 0)
        try writeImage(root, "cat/x.data", value: 51)   // a PNG under another name still counts
        try Data("notes".utf8).write(to: root.appendingPathComponent("cat/readme.txt"))
        let dataset = try ImageDataset.load(folder: root, resolution: 4, channels: 1)
        XCTAssertEqual(dataset.classNames, ["cat", "dog"])
        XCTAssertEqual(dataset.labels, [0, 1, 1])
        XCTAssertEqual(dataset.paths.map { URL(fileURLWithPath: $0).lastPathComponent }, ["x.data", "b.png", "a.png"])
        XCTAssertEqual(dataset.otherFiles, 1)
        XCTAssertEqual(dataset.sourceSizes, ["4x4": 3])
        let batch = dataset.tensor()
        XCTAssertEqual(batch.shape, [3, 1, 4, 4])
        // 51 / 127.5 - 1, 1, -1: pixels scaled to [-1, 1].
        XCTAssertEqual(batch.scalars[0], 51 / 127.5 - 1, accuracy: 1e-6)
        XCTAssertEqual(batch.scalars[16], 1)
        XCTAssertEqual(batch.scalars[32], -1)
    }

    func testFlatFolderHasNoLabelsAndImagesAreFittedAndFlipped() throws {
        let root = try temporaryFolder(self)
        // A 3-channel 6x4 image with a left-to-right ramp becomes 4x4 after fitting.
        var pixels: [UInt8] = []
        for _ in 0..<4 { for x in 0..<6 { pixels += [UInt8(x * 40), UInt8(x * 40), UInt8(x * 40)] } }
        try PNG.write(Image(width: 6, height: 4, channels: 3, pixels: pixels), to: root.appendingPathComponent("ramp.png"))
        let dataset = try ImageDataset.load(folder: root, resolution: 4, channels: 3)
        XCTAssertNil(dataset.labels)
        XCTAssertEqual(dataset.classNames, [])
        let expected = (try PNG.read(from: root.appendingPathComponent("ramp.png"), channels: 3)).fitted(to: 4)
        let plain = dataset.batch([0]).scalars, mirrored = dataset.batch([0], flips: [true]).scalars
        for x in 0..<4 {
            XCTAssertEqual(plain[x], Float(expected.pixels[x * 3]) / 127.5 - 1, accuracy: 1e-6)
            XCTAssertEqual(mirrored[x], plain[3 - x])
        }
    }

    func testFolderLevelErrors() throws {
        let root = try temporaryFolder(self)
        assertFileError(try ImageDataset.load(folder: root, resolution: 4, channels: 1), path: root.path, reason: "empty")
        try Data("x".utf8).write(to: root.appendingPathComponent("notes.txt"))
        assertFileError(try ImageDataset.load(folder: root, resolution: 4, channels: 1), path: root.path, reason: "no PNG images found (1 other file)")
        let missing = root.appendingPathComponent("missing")
        assertFileError(try ImageDataset.load(folder: missing, resolution: 4, channels: 1), path: "missing", reason: "no such folder")
        assertFileError(try ImageDataset.load(folder: root.appendingPathComponent("notes.txt"), resolution: 4, channels: 1),
                        path: "notes.txt", reason: "not a folder")

        let classes = try temporaryFolder(self)
        try writeImage(classes, "a/1.png")
        try FileManager.default.createDirectory(at: classes.appendingPathComponent("b"), withIntermediateDirectories: true)
        assertFileError(try ImageDataset.load(folder: classes, resolution: 4, channels: 1), path: "/b", reason: "class folder has no PNG images")
        try writeImage(classes, "b/2.png")
        try writeImage(classes, "stray.png")
        assertFileError(try ImageDataset.load(folder: classes, resolution: 4, channels: 1), path: "stray.png", reason: "beside class folders")
    }

    func testBadFilesAreErrorsOrWithSkipBadWarnings() throws {
        let root = try temporaryFolder(self)
        try writeImage(root, "good.png", value: 7)
        let cases: [(file: String, reason: String)] = [
            ("zero.png", "is empty (0 bytes)"),
            ("mislabelled.png", "not a PNG"),
        ]
        try Data().write(to: root.appendingPathComponent("zero.png"))
        try Data("GIF89a....".utf8).write(to: root.appendingPathComponent("mislabelled.png"))
        for (file, reason) in cases {
            let only = try temporaryFolder(self)
            try FileManager.default.copyItem(at: root.appendingPathComponent(file), to: only.appendingPathComponent(file))
            try writeImage(only, "good.png")
            assertFileError(try ImageDataset.load(folder: only, resolution: 4, channels: 1), path: file, reason: reason)
        }
        // Truncated, corrupt and absurdly large images fail at decoding, naming the file.
        let decoding = try temporaryFolder(self)
        try writeImage(decoding, "good.png")
        let badFiles = try FileManager.default.contentsOfDirectory(atPath: bad.path).filter { $0.hasSuffix(".png") }.sorted()
        XCTAssertGreaterThan(badFiles.count, 3)
        for name in badFiles {
            let folder = try temporaryFolder(self)
            try writeImage(folder, "good.png")
            try copyBad(name, to: folder, as: name)
            XCTAssertThrowsError(try ImageDataset.load(folder: folder, resolution: 4, channels: 1), name) { error in
                XCTAssertTrue("\(error)".contains(name), "\(error) does not name \(name)")
            }
            try copyBad(name, to: decoding, as: name)
        }
        try FileManager.default.copyItem(at: root.appendingPathComponent("zero.png"), to: decoding.appendingPathComponent("zero.png"))
        let skipping = try ImageDataset.load(folder: decoding, resolution: 4, channels: 1, skipBad: true)
        XCTAssertEqual(skipping.count, 1, "only good.png survives")
        XCTAssertEqual(Set(skipping.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent }), Set(badFiles + ["zero.png"]))

        let allBad = try temporaryFolder(self)
        try copyBad(badFiles[0], to: allBad, as: badFiles[0])
        assertFileError(try ImageDataset.load(folder: allBad, resolution: 4, channels: 1, skipBad: true),
                        path: allBad.path, reason: "could be decoded")
    }

    /// A FIFO named .png (opening it would wait forever), a link loop (once walked 41 times),
    /// a hidden temporary file of an interrupted write and a name that is not UTF-8: skipped,
    /// walked once, skipped, and reported.
    func testHostileEntriesAreSkippedOrReported() throws {
        let root = try temporaryFolder(self)
        try writeImage(root, "a/one.png", value: 3)
        try writeImage(root, "a/.two.png.tmp", value: 4)
        XCTAssertEqual(mkfifo(root.appendingPathComponent("a/fifo.png").path, 0o600), 0)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("a/loop").path, withDestinationPath: ".")
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("b").path, withDestinationPath: "a")
        let dataset = try ImageDataset.load(folder: root, resolution: 4, channels: 1)
        XCTAssertEqual(dataset.count, 1, "\(dataset.paths)")
        XCTAssertEqual(dataset.classNames, ["a"], "b is the same folder as a")

        // A name of bytes that are not UTF-8, made with the raw system call.
        let badName = Array(root.appendingPathComponent("a/").path.utf8) + [0x62, 0xFF, 0x2E, 0x70, 0x6E, 0x67, 0]
        let descriptor = badName.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o600) }
        XCTAssertGreaterThanOrEqual(descriptor, 0)
        close(descriptor)
        XCTAssertThrowsError(try ImageDataset.load(folder: root, resolution: 4, channels: 1)) { error in
            XCTAssertTrue("\(error)".contains("its name is not valid UTF-8"), "\(error)")
        }
        XCTAssertEqual(try ImageDataset.load(folder: root, resolution: 4, channels: 1, skipBad: true).count, 1)
    }
}
