import Foundation
import NN

// The file-system side of the PNG functions: whole and partial reads (writes go through NN's
// writeAtomically).

/// The whole file at `url`.
func readWholeFile(_ url: URL) throws -> [UInt8] {
    [UInt8](try readFileBytes(url))
}

/// Up to the first `count` bytes of the file at `url` (fewer when the file is shorter). Plain
/// POSIX calls: a dataset scan checks the signature of every file, and Foundation's file handles
/// cost several times more per file.
func readPrefix(of url: URL, count: Int) throws -> [UInt8] {
    let descriptor = open(url.path, O_RDONLY)
    guard descriptor >= 0 else {
        throw FileFormatError(path: url.path, reason: "cannot be read (\(String(cString: strerror(errno))))")
    }
    defer { close(descriptor) }
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
        let got = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + filled, count - filled) }
        if got < 0 && errno == EINTR { continue }
        guard got >= 0 else {
            throw FileFormatError(path: url.path, reason: "cannot be read (\(String(cString: strerror(errno))))")
        }
        if got == 0 { break }
        filled += got
    }
    return Array(bytes.prefix(filled))
}
