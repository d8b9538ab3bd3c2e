/// Antialiased bilinear resizing and cropping, pixel for pixel as Pillow's
/// `Image.resize(size, Image.BILINEAR)` and torchvision's `Resize` + `CenterCrop` on PIL images,
/// so that a folder means the same here as in a diffusers training script.
extension Image {
    /// Resized to `width` x `height` with Pillow's bilinear filter. When shrinking, the filter
    /// widens by the scale factor, so every source pixel contributes (antialiasing). Like Pillow,
    /// it runs a horizontal pass, rounds to 8 bits, then a vertical pass.
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "resize to \(newWidth)x\(newHeight)")
        var result = self
        if newWidth != width {
            let taps = ResampleTaps(inSize: width, outSize: newWidth)
            result = result.resampled(taps, horizontal: true)
        }
        if newHeight != height {
            let taps = ResampleTaps(inSize: height, outSize: newHeight)
            result = result.resampled(taps, horizontal: false)
        }
        return result
    }

    /// The central `width` x `height` region, placed as torchvision's CenterCrop places it
    /// (offsets rounded half to even, as Python's round).
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> Image {
        precondition(cropWidth <= width && cropHeight <= height, "crop \(cropWidth)x\(cropHeight) of \(width)x\(height)")
        let top = Int((Double(height - cropHeight) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - cropWidth) / 2).rounded(.toNearestOrEven))
        var out = [UInt8](repeating: 0, count: cropWidth * cropHeight * channels)
        let rowBytes = cropWidth * channels
        for y in 0..<cropHeight {
            let src = ((top + y) * width + left) * channels
            out[(y * rowBytes)..<((y + 1) * rowBytes)] = pixels[src..<(src + rowBytes)]
        }
        return Image(width: cropWidth, height: cropHeight, channels: channels, pixels: out)
    }

    /// torchvision's `Resize(resolution)` then `CenterCrop(resolution)`: the shorter side
    /// becomes `resolution` (the longer one int(resolution * long / short)), then the centre
    /// square is kept. An image already `resolution` square is returned untouched.
    public func fitted(to resolution: Int) -> Image {
        if width == resolution && height == resolution { return self }
        let short = min(width, height), long = max(width, height)
        let scaledLong = resolution * long / short
        let resized = width <= height
            ? resized(width: resolution, height: scaledLong)
            : resized(width: scaledLong, height: resolution)
        return resized.centerCropped(width: resolution, height: resolution)
    }

    /// One pass of the separable resampling, along rows (horizontal) or columns.
    private func resampled(_ taps: ResampleTaps, horizontal: Bool) -> Image {
        let outWidth = horizontal ? taps.outSize : width
        let outHeight = horizontal ? height : taps.outSize
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * channels)
        // Along a row, neighbours are `channels` bytes apart; along a column, a row apart.
        let step = horizontal ? channels : width * channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let o = horizontal ? x : y
                        let first = taps.first[o], weights = taps.weights(o)
                        let origin = horizontal ? (y * width + first) * channels : (first * width + x) * channels
                        for c in 0..<channels {
                            var sum = ResampleTaps.half
                            var i = origin + c
                            for w in weights {
                                sum += Int32(src[i]) * w
                                i += step
                            }
                            dst[(y * outWidth + x) * channels + c] = ResampleTaps.clip(sum)
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: outHeight, channels: channels, pixels: out)
    }
}

/// The fixed-point filter taps of one resampling pass, as Pillow computes them: for output pixel
/// o, source pixels first[o] ..< first[o] + count[o] with integer weights scaled by 2^22.
struct ResampleTaps {
    static let precisionBits: Int32 = 22
    /// Rounding term added before the final shift.
    static let half: Int32 = 1 << (precisionBits - 1)

    let outSize: Int
    private(set) var first: [Int] = []
    private var counts: [Int] = []
    private var table: [Int32] = []
    private let stride: Int

    init(inSize: Int, outSize: Int) {
        self.outSize = outSize
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filterScale // the triangle filter reaches 1 pixel, widened when shrinking
        stride = Int(support.rounded(.up)) * 2 + 1
        table = [Int32](repeating: 0, count: outSize * stride)
        for o in 0..<outSize {
            let center = (Double(o) + 0.5) * scale
            let lower = max(Int(center - support + 0.5), 0)
            let upper = min(Int(center + support + 0.5), inSize)
            let inverseScale = 1 / filterScale
            var weights = (lower..<upper).map { i in
                max(0, 1 - abs((Double(i) - center + 0.5) * inverseScale))
            }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            for (k, w) in weights.enumerated() {
                // Round half away from zero to 22 fractional bits, as Pillow does.
                table[o * stride + k] = Int32((w * Double(1 << ResampleTaps.precisionBits) + (w < 0 ? -0.5 : 0.5)).rounded(.towardZero))
            }
            first.append(lower)
            counts.append(upper - lower)
        }
    }

    func weights(_ o: Int) -> ArraySlice<Int32> { table[(o * stride)..<(o * stride + counts[o])] }

    /// The 8-bit value of a fixed-point sum, clamped to 0...255.
    @inline(__always)
    static func clip(_ sum: Int32) -> UInt8 { UInt8(clamping: sum >> precisionBits) }
}
