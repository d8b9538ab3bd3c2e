import Imaging
import NN

/// 8-bit images of one size as channel planes, image after image: what pixel statistics and
/// disturbances read. Pixel statistics see what feature networks may not (a gray background,
/// clipped highlights), so they work on the values a PNG holds, not on features.
public struct PixelSet: Sendable {
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    /// `count * channels * height * width` values; image i, channel c is the plane at
    /// `(i * channels + c) * height * width`.
    public internal(set) var pixels: [UInt8]

    public init(count: Int, channels: Int, height: Int, width: Int, pixels: [UInt8]) {
        precondition(pixels.count == count * channels * height * width, "PixelSet: \(pixels.count) values for \(count)x\(channels)x\(height)x\(width)")
        (self.count, self.channels, self.height, self.width, self.pixels) = (count, channels, height, width, pixels)
    }

    /// The images of a dataset, as loaded (converted to its channels and fitted to its resolution).
    public init(_ dataset: ImageDataset) {
        self.init(count: dataset.count, channels: dataset.channels, height: dataset.resolution,
                  width: dataset.resolution, pixels: dataset.pixels)
    }

    /// Interleaved 8-bit images (as generated or decoded), all of the first one's size.
    public init(_ images: [Image]) {
        let first = images.first
        let (channels, height, width) = (first?.channels ?? 1, first?.height ?? 0, first?.width ?? 0)
        var pixels = [UInt8]()
        pixels.reserveCapacity(images.count * channels * height * width)
        for image in images {
            precondition(image.channels == channels && image.height == height && image.width == width,
                         "PixelSet: images of different sizes")
            pixels += image.planes
        }
        self.init(count: images.count, channels: channels, height: height, width: width, pixels: pixels)
    }

    /// Values in one image.
    public var imageSize: Int { channels * height * width }
    public var area: Int { height * width }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> PixelSet {
        var out = [UInt8]()
        out.reserveCapacity(indices.count * imageSize)
        for i in indices { out += pixels[(i * imageSize)..<((i + 1) * imageSize)] }
        return PixelSet(count: indices.count, channels: channels, height: height, width: width, pixels: out)
    }

    /// The images as (N, C, H, W) in [-1, 1], as a dataset batch is.
    public func tensor() -> Tensor {
        Tensor(shape: [count, channels, height, width], pixels.map { Float($0) / 127.5 - 1 })
    }
}
