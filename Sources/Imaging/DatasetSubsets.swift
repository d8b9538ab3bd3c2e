import Foundation
import NN

/// Parts and unions of loaded datasets, for experiments that train on mixes of sets (real and
/// synthetic images, a small real subset).
extension ImageDataset {
    /// The images at `indices`, in that order (labels and paths with them).
    public func subset(_ indices: [Int]) -> ImageDataset {
        let size = imageSize
        var chosen = [UInt8]()
        chosen.reserveCapacity(indices.count * size)
        for i in indices { chosen += pixels[(i * size)..<((i + 1) * size)] }
        return ImageDataset(root: root, resolution: resolution, channels: channels, classNames: classNames,
                            labels: labels.map { all in indices.map { all[$0] } }, paths: indices.map { paths[$0] },
                            skipped: [], otherFiles: 0, sourceSizes: [:], sourceKinds: [:], pixels: chosen)
    }

    /// This set's images, then `other`'s; both must have the same classes, size and channels.
    public func appending(_ other: ImageDataset) throws -> ImageDataset {
        guard other.classNames == classNames, other.resolution == resolution, other.channels == channels,
              (labels == nil) == (other.labels == nil) else {
            throw FileFormatError(path: other.root.path, reason: "its classes \(other.classNames) or image size differ from \(root.path)'s \(classNames)")
        }
        return ImageDataset(root: root, resolution: resolution, channels: channels, classNames: classNames,
                            labels: labels.map { $0 + other.labels! }, paths: paths + other.paths, skipped: [], otherFiles: 0,
                            sourceSizes: [:], sourceKinds: [:], pixels: pixels + other.pixels)
    }
}
