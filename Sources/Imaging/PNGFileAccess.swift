import Foundation
import NN

// The file-system side of the PNG functions: whole and partial reads (writes go through NN's
// writeAtomically).

/// The whole file at `url`.
func readWholeFile(_ url: URL) throws -> [UInt8] {
    do {
        return [UInt8](try Data(contentsOf: url))
    } catch {
        throw FileFormatError(path: url.path, reason: "cannot be read (\(error.localizedDescription))")
    }
}

/// Up to the first `count` bytes of the file at `url` (fewer when the file is shorter).
func readPrefix(of url: URL, count: Int) throws -> [UInt8] {
    do {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    } catch {
        throw FileFormatError(path: url.path, reason: "cannot be read (\(error.localizedDescription))")
    }
}
