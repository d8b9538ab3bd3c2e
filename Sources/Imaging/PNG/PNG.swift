import Foundation
import NN

/// Reading and writing PNG files.
///
/// Decoding accepts every kind of PNG (gray, gray+alpha, RGB, RGBA, palette; 1 to 16 bits;
/// interlaced or not) and returns 8-bit gray or RGB pixels equal to Pillow's
/// `Image.open(f).convert("L")` / `.convert("RGB")` arrays: the stored samples unchanged by
/// gamma or colour chunks, alpha dropped, palettes looked up, gray replicated to RGB, RGB
/// reduced to gray by Pillow's ITU-R 601-2 luma. 16-bit samples become round(v / 257), where
/// Pillow would clip or keep the high byte. Encoding writes 8-bit gray or RGB.
///
/// Every failure is a `FileFormatError` naming the file and the reason.
public enum PNG {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The most pixels (width times height) a file may declare and still be decoded; larger
    /// files are refused from their header, before anything is allocated for them.
    /// Set it at start-up, before images are decoded on several threads.
    nonisolated(unsafe) public static var maxPixels = 1 << 26

    /// The most pixels a decoded image may have on either side.
    static let maxSide = 1 << 16

    /// Whether the file at `url` starts with the PNG signature; reads only those 8 bytes, and
    /// answers false for a file that cannot be read.
    public static func hasSignature(_ url: URL) -> Bool {
        (try? readPrefix(of: url, count: signature.count)) == signature
    }

    /// The header of the PNG file at `url`, read without decoding (or reading) the image data.
    ///
    /// It does not apply `maxPixels`: it describes a file, which `read` may then refuse.
    public static func info(of url: URL) throws -> PNGInfo {
        try PNGInfo(header: readPrefix(of: url, count: PNGInfo.headerByteCount), path: url.path)
    }

    /// Decodes the PNG file at `url` to 8-bit pixels with `channels` 1 (gray) or 3 (RGB).
    public static func read(from url: URL, channels: Int) throws -> Image {
        try decode(readWholeFile(url), path: url.path, channels: channels)
    }

    /// As `read`, also returning the file's header, from one read of the file.
    public static func readWithInfo(from url: URL, channels: Int) throws -> (image: Image, info: PNGInfo) {
        let bytes = try readWholeFile(url)
        let info = try PNGInfo(header: Array(bytes.prefix(PNGInfo.headerByteCount)), path: url.path)
        return (try decode(bytes, path: url.path, channels: channels), info)
    }

    /// Writes `image` to `url` as a PNG file, replacing any file there atomically.
    public static func write(_ image: Image, to url: URL) throws {
        try writeAtomically(encode(image, path: url.path), to: url, durable: false)
    }
}
