import Foundation
import NN

/// An unsigned-byte array from an IDX file (the format of MNIST and Fashion-MNIST): a 4-byte
/// magic (0, 0, type, rank), `rank` big-endian UInt32 sizes, then the data in row-major order.
public struct IDXArray: Sendable {
    public let shape: [Int]
    public let values: [UInt8]

    /// Reads an IDX file, raw or gzip-compressed, checking the header against the data.
    public static func read(from url: URL) throws -> IDXArray {
        try decode([UInt8](readFileBytes(url)), path: url.path)
    }

    /// Decodes the bytes of an IDX file, raw or gzip-compressed, naming `path` in every
    /// `FileFormatError`.
    public static func decode(_ raw: [UInt8], path: String) throws -> IDXArray {
        let bytes = Gzip.isCompressed(raw) ? try Gzip.decompress(raw, path: path) : raw
        func failure(_ reason: String) -> FileFormatError { FileFormatError(path: path, reason: reason) }

        guard bytes.count >= 4 else { throw failure("\(bytes.count) bytes, too short for an IDX header") }
        guard bytes[0] == 0, bytes[1] == 0 else { throw failure("not an IDX file (magic number does not start with two zero bytes)") }
        guard bytes[2] == 0x08 else {
            throw failure("IDX element type 0x\(String(bytes[2], radix: 16)) is not supported (only unsigned bytes, 0x08)")
        }
        let rank = Int(bytes[3])
        guard rank >= 1 else { throw failure("IDX rank is 0") }
        guard bytes.count >= 4 + 4 * rank else { throw failure("header declares \(rank) dimensions but the file ends inside it") }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let at = 4 + 4 * d
            let size = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            shape.append(size)
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= bytes.count else {
                throw failure("header declares shape \(shape) and more, larger than the file")
            }
            count = product
        }
        let dataStart = 4 + 4 * rank
        guard bytes.count - dataStart == count else {
            throw failure("header declares shape \(shape) (\(count) bytes) but the file holds \(bytes.count - dataStart) data bytes")
        }
        return IDXArray(shape: shape, values: Array(bytes[dataStart...]))
    }
}
