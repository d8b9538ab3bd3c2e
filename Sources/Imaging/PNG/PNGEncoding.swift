import NN

extension PNG {
    /// The PNG encoding (8-bit gray or RGB, not interlaced) of `image`.
    public static func encode(_ image: Image) throws -> [UInt8] {
        try encode(image, path: "(PNG in memory)")
    }

    /// `encode(_:)`, naming `path` in errors.
    static func encode(_ image: Image, path: String) throws -> [UInt8] {
        func failure(_ reason: String) -> FileFormatError { FileFormatError(path: path, reason: reason) }
        guard image.channels == 1 || image.channels == 3 else {
            throw failure("cannot be written: only 1- or 3-channel images can be, not \(image.channels)")
        }
        // Image checks its sizes on creation, but `pixels` is mutable and could since have changed.
        guard (1...Int(Int32.max)).contains(image.width), (1...Int(Int32.max)).contains(image.height) else {
            throw failure("cannot be written: PNG cannot store a \(image.width)x\(image.height) image")
        }
        let (perRow, rowOverflow) = image.width.multipliedReportingOverflow(by: image.channels)
        let (count, countOverflow) = perRow.multipliedReportingOverflow(by: image.height)
        guard !rowOverflow, !countOverflow, count == image.pixels.count else {
            throw failure("cannot be written: \(image.pixels.count) samples do not make a \(image.width)x\(image.height)x\(image.channels) image")
        }
        return try libpngEncode(image.pixels, width: image.width, height: image.height,
                                channels: image.channels, path: path)
    }
}
