import CPNG
import NN

// The calls into libpng (through the C target CPNG), turning its failures into errors.

/// Room for libpng's error messages, which are short ("IDAT: CRC error").
private let messageCapacity = 256

/// Calls `body` with a buffer for an error message and returns whether it succeeded, and the
/// message it left.
private func withMessage(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> (ok: Bool, message: String) {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: messageCapacity) { buffer in
        guard let start = buffer.baseAddress else { return (false, "") }
        start.initialize(to: 0)
        let ok = body(start, buffer.count) == 1
        return (ok, String(cString: start))
    }
}

/// Fills `samples` with the decoded samples of the PNG file in `data`, in the layout CPNG.h
/// describes; `samples` must have exactly that layout's size.
func libpngDecode(_ data: [UInt8], into samples: UnsafeMutableRawBufferPointer, path: String) throws {
    let (ok, message) = withMessage { text, capacity in
        data.withUnsafeBufferPointer { file in
            cpng_decode(file.baseAddress, file.count, UInt32(PNG.maxSide), UInt32(PNG.maxSide),
                        samples.baseAddress?.assumingMemoryBound(to: UInt8.self), samples.count,
                        text, capacity)
        }
    }
    guard ok else { throw FileFormatError(path: path, reason: "is not a readable PNG file (\(message))") }
}

/// The PNG encoding of 8-bit `pixels` (HWC, `channels` 1 or 3).
func libpngEncode(_ pixels: [UInt8], width: Int, height: Int, channels: Int, path: String) throws -> [UInt8] {
    var encoded: UnsafeMutablePointer<UInt8>?
    var size = 0
    let (ok, message) = withMessage { text, capacity in
        pixels.withUnsafeBufferPointer { source in
            cpng_encode(source.baseAddress, UInt32(width), UInt32(height), Int32(channels),
                        &encoded, &size, text, capacity)
        }
    }
    guard ok, let encoded else {
        throw FileFormatError(path: path, reason: "cannot be encoded as PNG (\(message))")
    }
    defer { cpng_free(encoded) }
    return Array(UnsafeBufferPointer(start: encoded, count: size))
}
