import Foundation
import NN
import XCTest
@testable import Imaging

/// Tests/Fixtures.
let fixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

/// A new empty folder under the system's temporary folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts that `body` throws a FileFormatError whose text mentions `path` and `reason`.
func assertFileError<T>(_ body: @autoclosure () throws -> T, path: String, reason: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? FileFormatError else {
            XCTFail("expected FileFormatError, got \(error)", file: file, line: line)
            return
        }
        XCTAssertTrue(error.path.contains(path), "error names \(error.path), expected \(path)", file: file, line: line)
        XCTAssertTrue(error.reason.contains(reason), "reason '\(error.reason)' lacks '\(reason)'", file: file, line: line)
    }
}
