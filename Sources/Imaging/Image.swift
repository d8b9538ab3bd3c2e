/// An 8-bit image held in memory: rows top to bottom, pixels left to right, and each pixel's
/// channels side by side (HWC). `channels` is 1 (gray) or 3 (RGB).
public struct Image: Equatable, Sendable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Samples per pixel: 1 (gray) or 3 (RGB).
    public let channels: Int
    /// `height * width * channels` samples, row-major with channels interleaved.
    public var pixels: [UInt8]

    /// An image over `pixels`; traps unless `channels` is 1 or 3 and `pixels` holds exactly
    /// `width * height * channels` samples (a programming error: readers check their files
    /// before they get here).
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3, "Image: channels must be 1 or 3, not \(channels)")
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * channels,
                     "Image: \(pixels.count) samples do not make a \(width)x\(height)x\(channels) image")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

extension Image {
    /// The samples as channel planes (CHW), as datasets and tensors hold them.
    public var planes: [UInt8] {
        guard channels > 1 else { return pixels }
        let area = width * height
        var out = [UInt8](repeating: 0, count: pixels.count)
        for p in 0..<area { for c in 0..<channels { out[c * area + p] = pixels[p * channels + c] } }
        return out
    }
}
