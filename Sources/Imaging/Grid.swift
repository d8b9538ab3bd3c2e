import NN

/// Image grids, for sample sheets and reports.
public enum Grid {
    /// A batch (N, C, H, W) in model space as 8-bit images, the way diffusers' pipelines write
    /// them: (x / 2 + 0.5) clamped to [0, 1], times 255, rounded.
    public static func images(fromBatch batch: Tensor) -> [Image] {
        precondition(batch.rank == 4 && (batch.shape[1] == 1 || batch.shape[1] == 3), "a grid needs (N, 1 or 3, H, W), got \(batch.shape)")
        let (n, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        let values = batch.scalars
        return (0..<n).map { i in
            var pixels = [UInt8](repeating: 0, count: h * w * c)
            for channel in 0..<c {
                for p in 0..<(h * w) {
                    let x = values[(i * c + channel) * h * w + p]
                    // NaN (which samplers refuse to hand over) would trap the conversion: black.
                    let unit = x.isNaN ? 0 : min(max(x / 2 + 0.5, 0), 1)
                    pixels[p * c + channel] = UInt8((unit * 255).rounded())
                }
            }
            return Image(width: w, height: h, channels: c, pixels: pixels)
        }
    }

    /// Images (all the same size and channels) as a batch (N, C, H, W) in [-1, 1]: the inverse
    /// of `images(fromBatch:)` up to its 8-bit rounding, and what a dataset of the same images
    /// written as PNGs would give.
    public static func batch(_ images: [Image]) -> Tensor {
        precondition(!images.isEmpty, "a batch needs images")
        let (w, h, c) = (images[0].width, images[0].height, images[0].channels)
        precondition(images.allSatisfy { $0.width == w && $0.height == h && $0.channels == c },
                     "batch images differ in size or channels")
        var values = [Float](repeating: 0, count: images.count * c * h * w)
        for (i, image) in images.enumerated() {
            for channel in 0..<c {
                for p in 0..<(h * w) {
                    values[(i * c + channel) * h * w + p] = Float(image.pixels[p * c + channel]) / 127.5 - 1
                }
            }
        }
        return Tensor(shape: [images.count, c, h, w], values)
    }

    /// The images (all the same size and channels) in rows of `columns` (default: a near-square
    /// layout), with `gap` pixels of `background` around and between them.
    public static func make(_ images: [Image], columns: Int? = nil, gap: Int = 2, background: UInt8 = 255) -> Image {
        precondition(!images.isEmpty, "a grid needs images")
        let first = images[0]
        precondition(images.allSatisfy { $0.width == first.width && $0.height == first.height && $0.channels == first.channels },
                     "grid images differ in size or channels")
        let cols = max(1, min(columns ?? Int(Double(images.count).squareRoot().rounded(.up)), images.count))
        let rows = (images.count + cols - 1) / cols
        let (w, h, c) = (first.width, first.height, first.channels)
        let width = cols * (w + gap) + gap, height = rows * (h + gap) + gap
        var pixels = [UInt8](repeating: background, count: width * height * c)
        for (i, image) in images.enumerated() {
            let left = gap + (i % cols) * (w + gap), top = gap + (i / cols) * (h + gap)
            for y in 0..<h {
                let dst = ((top + y) * width + left) * c
                pixels[dst..<(dst + w * c)] = image.pixels[(y * w * c)..<((y + 1) * w * c)]
            }
        }
        return Image(width: width, height: height, channels: c, pixels: pixels)
    }
}
