import NN

extension PNG {
    /// Decodes the PNG file held in `data` to 8-bit pixels with `channels` 1 (gray) or 3 (RGB);
    /// `path` names the file in errors.
    ///
    /// The header is checked first: an image over `maxPixels` pixels, or over 65536 pixels on
    /// a side, is refused before anything is allocated for it.
    public static func decode(_ data: [UInt8], path: String, channels: Int) throws -> Image {
        guard channels == 1 || channels == 3 else {
            throw FileFormatError(path: path, reason: "cannot be decoded to \(channels) channels (only 1 or 3)")
        }
        let info = try PNGInfo(header: data, path: path)
        guard info.width <= maxSide, info.height <= maxSide else {
            throw FileFormatError(path: path, reason:
                "is \(info.width)x\(info.height) pixels, over the limit of \(maxSide) pixels a side")
        }
        let pixelCount = info.width * info.height  // at most 2^32: no overflow
        guard pixelCount <= maxPixels else {
            throw FileFormatError(path: path, reason:
                "has \(pixelCount) pixels (\(info.width)x\(info.height)), more than PNG.maxPixels (\(maxPixels))")
        }

        let stored = PNGSamples(pixelCount: pixelCount, channels: info.color.decodedChannels,
                                sixteenBit: info.bitDepth == 16)
        let samples = UnsafeMutableRawBufferPointer.allocate(byteCount: stored.byteCount, alignment: 16)
        defer { samples.deallocate() }
        try libpngDecode(data, into: samples, path: path)
        let pixels = stored.convert(samples, toChannels: channels)
        return Image(width: info.width, height: info.height, channels: channels, pixels: pixels)
    }
}
