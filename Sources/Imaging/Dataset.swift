import Foundation
import NN

/// A decoded image folder at the model's resolution and channel count, ready for training.
///
/// Images are kept as 8-bit CHW planes (a quarter of the memory of Float32) and become Float32
/// in [-1, 1] when a batch is taken.
public struct ImageDataset: Sendable {
    /// The folder the images came from.
    public let root: URL
    public let resolution: Int
    public let channels: Int
    /// Class names in label order; empty for an unlabelled folder.
    public let classNames: [String]
    /// The class of each image; nil for an unlabelled folder.
    public let labels: [Int]?
    /// The source file of each image.
    public let paths: [String]
    /// Files that failed to decode and were skipped (with `skipBad`), with the reason.
    public let skipped: [(path: String, reason: String)]
    /// Files under the folder that are not PNGs.
    public let otherFiles: Int
    /// How many source images had each size ("28x28") and each kind ("8-bit gray").
    public let sourceSizes: [String: Int]
    public let sourceKinds: [String: Int]
    /// Preprocessed pixels, image after image, each channels x resolution x resolution (CHW).
    public let pixels: [UInt8]

    public var count: Int { paths.count }
    var imageSize: Int { channels * resolution * resolution }

    /// Decodes every PNG of `folder`, converts it to `channels` (1 or 3) as Pillow's
    /// convert("L") / convert("RGB") would, and fits it to `resolution` (shorter side resized
    /// with antialiased bilinear filtering, then centre-cropped). A file that fails to decode is
    /// an error, or with `skipBad` a warning in `skipped`.
    public static func load(folder: URL, resolution: Int, channels: Int, skipBad: Bool = false) throws -> ImageDataset {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        precondition(resolution > 0, "resolution must be positive")
        let listing = try ImageFolder.scan(folder)
        if let first = listing.mislabelled.first, !skipBad { throw first }
        let files = listing.files
        let imageSize = channels * resolution * resolution

        // Decode on every core; each file's result lands in its own slot.
        var results = [Result<(Image, PNGInfo), FileFormatError>?](repeating: nil, count: files.count)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            parallelChunks(files.count, grain: 1) { range in
                for i in range { slots[i] = decode(files[i].url, channels: channels, resolution: resolution) }
            }
        }

        var pixels = [UInt8]()
        pixels.reserveCapacity(files.count * imageSize)
        var labels: [Int] = [], paths: [String] = []
        var skipped = listing.mislabelled.map { ($0.path, $0.reason) }
        var sizes: [String: Int] = [:], kinds: [String: Int] = [:]
        for (file, result) in zip(files, results) {
            switch result! {
            case .success(let (image, info)):
                pixels += image.planes
                paths.append(file.url.path)
                if let label = file.label { labels.append(label) }
                sizes["\(info.width)x\(info.height)", default: 0] += 1
                kinds[info.kind, default: 0] += 1
            case .failure(let error):
                guard skipBad else { throw error }
                skipped.append((error.path, error.reason))
            }
        }
        guard !paths.isEmpty else {
            throw FileFormatError(path: folder.path, reason: "none of the \(skipped.count) PNG files could be decoded")
        }
        return ImageDataset(root: folder, resolution: resolution, channels: channels, classNames: listing.classNames,
                            labels: listing.classNames.isEmpty ? nil : labels, paths: paths, skipped: skipped,
                            otherFiles: listing.otherFiles, sourceSizes: sizes, sourceKinds: kinds, pixels: pixels)
    }

    private static func decode(_ url: URL, channels: Int, resolution: Int) -> Result<(Image, PNGInfo), FileFormatError> {
        do {
            let (image, info) = try PNG.readWithInfo(from: url, channels: channels)
            return .success((image.fitted(to: resolution), info))
        } catch let error as FileFormatError {
            return .failure(error)
        } catch {
            return .failure(FileFormatError(path: url.path, reason: "\(error)"))
        }
    }

    /// The images at `indices` as a (count, C, H, W) batch in [-1, 1]; an image whose `flips`
    /// entry is true is mirrored left to right.
    public func batch(_ indices: [Int], flips: [Bool]? = nil) -> Tensor {
        let side = resolution
        var values = [Float](repeating: 0, count: indices.count * imageSize)
        values.withUnsafeMutableBufferPointer { out in
            pixels.withUnsafeBufferPointer { src in
                for (slot, index) in indices.enumerated() {
                    let mirror = flips?[slot] ?? false
                    let from = index * imageSize, to = slot * imageSize
                    for row in 0..<(channels * side) {
                        for x in 0..<side {
                            let value = src[from + row * side + (mirror ? side - 1 - x : x)]
                            out[to + row * side + x] = Float(value) / 127.5 - 1
                        }
                    }
                }
            }
        }
        return Tensor(shape: [indices.count, channels, side, side], values)
    }

    /// Every image, in the dataset's order, as (N, C, H, W) in [-1, 1].
    public func tensor() -> Tensor { batch(Array(0..<count)) }
}
