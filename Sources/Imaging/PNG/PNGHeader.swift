import NN

// Reading the header (signature and IHDR chunk) that starts every PNG file, in Swift, so that
// `PNG.info` needs no libpng and `PNG.decode` can check the dimensions before it allocates.

extension PNGInfo {
    /// Bytes from the start of a PNG file through the end of its IHDR chunk: the signature (8),
    /// IHDR's length and type (8), its data (13) and its CRC (4).
    static let headerByteCount = 33

    /// Parses the signature and IHDR chunk at the start of `bytes` (the whole file or at least
    /// its first `headerByteCount` bytes) and checks every field against the specification.
    init(header bytes: some Collection<UInt8>, path: String) throws {
        func failure(_ reason: String) -> FileFormatError { FileFormatError(path: path, reason: reason) }
        let header = [UInt8](bytes.prefix(PNGInfo.headerByteCount))
        if header.isEmpty { throw failure("is empty (0 bytes), not a PNG file") }
        let signatureBytes = Array(header.prefix(PNG.signature.count))
        guard PNG.signature.starts(with: signatureBytes) else {
            throw failure("is not a PNG file (wrong signature)")
        }
        guard header.count == PNGInfo.headerByteCount else {
            throw failure("is truncated: it ends within the PNG header (\(header.count) bytes)")
        }

        func uint32(at offset: Int) -> UInt32 {
            header[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        guard uint32(at: 8) == 13, header[12..<16].elementsEqual("IHDR".utf8) else {
            throw failure("is not a valid PNG file: it does not start with a 13-byte IHDR chunk")
        }
        guard crc32(header[12..<29]) == uint32(at: 29) else {
            throw failure("has a corrupt IHDR chunk (CRC mismatch)")
        }

        // The specification limits both dimensions to 1...2^31 - 1.
        let width = Int(uint32(at: 16))
        let height = Int(uint32(at: 20))
        guard (1...Int(Int32.max)).contains(width), (1...Int(Int32.max)).contains(height) else {
            throw failure("declares invalid dimensions \(width)x\(height)")
        }
        guard let color = PNGColorType(rawValue: header[25]) else {
            throw failure("declares an unknown colour type \(header[25])")
        }
        let bitDepth = Int(header[24])
        guard color.allowedBitDepths.contains(bitDepth) else {
            throw failure("declares bit depth \(bitDepth), which \(color.name) images cannot have")
        }
        guard header[26] == 0, header[27] == 0 else {
            throw failure("declares an unknown compression (\(header[26])) or filter method (\(header[27]))")
        }
        guard header[28] <= 1 else {
            throw failure("declares an unknown interlace method \(header[28])")
        }
        self.init(width: width, height: height, bitDepth: bitDepth, color: color, interlaced: header[28] == 1)
    }
}

/// The CRC-32 that PNG chunks carry (ISO 3309, reflected polynomial 0xEDB88320), bit by bit:
/// it only ever checks the 17 bytes of IHDR here (libpng checks every other chunk).
private func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}
