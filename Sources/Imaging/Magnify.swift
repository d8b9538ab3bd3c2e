extension Image {
    /// Each pixel repeated as a `factor` x `factor` block (nearest-neighbour enlargement), so a
    /// grid of 28-pixel images reads on a screen without blurring them.
    public func magnified(by factor: Int) -> Image {
        precondition(factor >= 1, "magnify by \(factor)")
        guard factor > 1 else { return self }
        let newWidth = width * factor, rowLength = newWidth * channels
        var result = [UInt8](repeating: 0, count: rowLength * height * factor)
        for y in 0..<height {
            let top = y * factor * rowLength
            for x in 0..<width {
                let source = (y * width + x) * channels
                for copy in 0..<factor {
                    let target = top + (x * factor + copy) * channels
                    for c in 0..<channels { result[target + c] = pixels[source + c] }
                }
            }
            // The first output row of this source row is done; the others repeat it.
            for row in 1..<factor {
                result.replaceSubrange((top + row * rowLength)..<(top + (row + 1) * rowLength),
                                       with: result[top..<(top + rowLength)])
            }
        }
        return Image(width: newWidth, height: height * factor, channels: channels, pixels: result)
    }
}
