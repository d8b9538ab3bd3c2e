import Foundation
import NN

/// Writes a report as pretty-printed JSON with sorted keys, replacing `path` atomically.
func writeJSONReport<Report: Encodable>(_ report: Report, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeAtomically(try encoder.encode(report), to: URL(fileURLWithPath: path))
}
