import Foundation
import NN
import XCTest

/// `readFileBytes`, the one whole-file reader behind every format.
final class FileReadingTests: XCTestCase {
    func testReadsWholeFilesOfEverySize() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // Empty, short, a page and one more byte, and larger than the 4 KB probe.
        for count in [0, 3, 4097, 100_000] {
            let bytes = Data((0..<count).map { UInt8(truncatingIfNeeded: $0 * 7) })
            let file = folder.appendingPathComponent("\(count).bin")
            try bytes.write(to: file)
            XCTAssertEqual(try readFileBytes(file), bytes, "\(count) bytes")
        }
    }

    func testReadsFilesWhoseSizeIsNotKnownAhead() throws {
        // /proc files report size 0 and hold text.
        let status = try readFileBytes(URL(fileURLWithPath: "/proc/self/status"))
        XCTAssertTrue(String(decoding: status, as: UTF8.self).contains("Name:"))
    }

    func testFailuresNameTheFile() {
        for path in ["/nonexistent/file.bin", "/"] {
            XCTAssertThrowsError(try readFileBytes(URL(fileURLWithPath: path))) { error in
                XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("cannot be read"), "\(error)")
            }
        }
    }
}
