import CZlib
import Foundation
import NN

/// gzip decompression through zlib, with a cap on the output so a corrupt or hostile file
/// cannot exhaust memory.
enum Gzip {
    /// Whether `bytes` starts with the gzip magic number.
    static func isCompressed(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    static func decompress(_ input: [UInt8], path: String, limit: Int = 1 << 31) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw FileFormatError(path: path, reason: "cannot start gzip decompression")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while status != Z_STREAM_END {
                status = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                guard output.count <= limit else {
                    throw FileFormatError(path: path, reason: "decompresses to more than \(limit) bytes")
                }
                switch status {
                case Z_OK, Z_STREAM_END: continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw FileFormatError(path: path, reason: "gzip data is truncated")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw FileFormatError(path: path, reason: "gzip data is corrupt (\(message))")
                }
            }
        }
        return output
    }
}
