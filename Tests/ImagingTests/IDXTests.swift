import Foundation
import NN
import XCTest
@testable import Imaging

final class IDXTests: XCTestCase {
    /// An IDX file of unsigned bytes with the given shape and values.
    private func idx(_ shape: [Int], _ values: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for size in shape { bytes += [UInt8(size >> 24 & 255), UInt8(size >> 16 & 255), UInt8(size >> 8 & 255), UInt8(size & 255)] }
        return bytes + values
    }

    func testReadsRawAndGzip() throws {
        let folder = try temporaryFolder(self)
        let bytes = idx([2, 2, 3], Array(0..<12))
        let raw = folder.appendingPathComponent("a.idx")
        try Data(bytes).write(to: raw)
        let array = try IDXArray.read(from: raw)
        XCTAssertEqual(array.shape, [2, 2, 3])
        XCTAssertEqual(array.values, Array(0..<12))

        // gzip made by the system's gzip tool.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-k", raw.path]
        try process.run()
        process.waitUntilExit()
        let compressed = try IDXArray.read(from: folder.appendingPathComponent("a.idx.gz"))
        XCTAssertEqual(compressed.values, array.values)
        XCTAssertEqual(compressed.shape, array.shape)
    }

    func testRejectsMalformedFiles() throws {
        let folder = try temporaryFolder(self)
        func write(_ name: String, _ bytes: [UInt8]) throws -> URL {
            let url = folder.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url
        }
        let valid = idx([3, 2], Array(0..<6))
        for cut in 0..<valid.count {
            XCTAssertThrowsError(try IDXArray.read(from: try write("cut\(cut)", Array(valid.prefix(cut)))), "prefix \(cut)")
        }
        assertFileError(try IDXArray.read(from: try write("long", valid + [1])), path: "long", reason: "holds 7 data bytes")
        assertFileError(try IDXArray.read(from: try write("magic", [1, 0, 8, 1, 0, 0, 0, 0])), path: "magic", reason: "not an IDX file")
        assertFileError(try IDXArray.read(from: try write("type", [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0])), path: "type", reason: "not supported")
        assertFileError(try IDXArray.read(from: try write("huge", idx([1 << 30, 1 << 30, 1 << 30], []))), path: "huge", reason: "larger than the file")
        assertFileError(try IDXArray.read(from: try write("gz", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])), path: "gz", reason: "gzip")
        assertFileError(try IDXArray.read(from: folder.appendingPathComponent("missing")), path: "missing", reason: "cannot be read")
    }
}
