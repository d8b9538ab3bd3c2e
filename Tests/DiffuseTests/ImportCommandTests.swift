import XCTest
@testable import diffuse

/// `diffuse import idx --class-names`: names that would write outside --out or merge classes
/// are refused before any work (".,..,..." once wrote images into the parent of --out).
final class ImportCommandTests: XCTestCase {
    func testClassNamesThatAreNotFolderNamesAreRefused() throws {
        let common = ["import", "idx", "--images", "i.idx", "--labels", "l.idx", "--out", "out", "--class-names"]
        for bad in [".,..,...", "a,,b", "a/b,c", "../x,y", "cat,cat", ".hidden,b"] {
            XCTAssertThrowsError(try Diffuse.parseAsRoot(common + [bad]), bad) { error in
                XCTAssertTrue(Diffuse.message(for: error).contains("--class-names"), "\(bad): \(error)")
            }
        }
        XCTAssertNoThrow(try Diffuse.parseAsRoot(common + ["T-shirt, trouser ,bag"]))
    }
}
