import Foundation
import NN
import ParserFuzzing
import XCTest

/// Every file of the committed seed corpus (Fuzzing/corpus/<target>/) through its parser, as the
/// fuzzer starts: files named `bad_*` (and crash reproducers the fuzzer found, `crash-*`) must be
/// refused with a message, every other file accepted. A parser that traps fails the whole run.
final class CorpusReplayTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzzing/corpus")

    func testEveryTargetHasSeeds() throws {
        for target in FuzzTarget.allCases {
            XCTAssertFalse(try seeds(of: target).isEmpty, "no seeds for \(target.rawValue)")
        }
    }

    func testSeedsGiveTheExpectedOutcome() throws {
        for target in FuzzTarget.allCases {
            for seed in try seeds(of: target) {
                let name = seed.lastPathComponent
                let outcome = target.run([UInt8](try readFileBytes(seed)))
                if name.hasPrefix("bad_") || name.hasPrefix("crash-") {
                    guard case .refused(let reason) = outcome else {
                        XCTFail("\(target.rawValue)/\(name): accepted, expected a refusal")
                        continue
                    }
                    XCTAssertFalse(reason.isEmpty, "\(target.rawValue)/\(name)")
                } else {
                    XCTAssertEqual(outcome, .accepted, "\(target.rawValue)/\(name)")
                }
            }
        }
    }

    /// A parser's answer depends on the bytes alone: the same input twice gives the same outcome.
    func testOutcomesRepeat() throws {
        for target in FuzzTarget.allCases {
            for seed in try seeds(of: target) {
                let bytes = [UInt8](try readFileBytes(seed))
                XCTAssertEqual(target.run(bytes), target.run(bytes), "\(target.rawValue)/\(seed.lastPathComponent)")
            }
        }
    }

    private func seeds(of target: FuzzTarget) throws -> [URL] {
        let folder = Self.corpus.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
