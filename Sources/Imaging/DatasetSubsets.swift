import Foundation
import NN

/// Parts and unions of loaded datasets, for experiments that train on mixes of sets (real and
/// synthetic images, a small real subset), and sets made in memory.
extension ImageDataset {
    /// Square images of one size made in memory (a sampler's output), labelled with indices
    /// into `classNames` (nil: unlabelled); `root` names where they came from in messages.
    public init(images: [Image], labels: [Int]?, classNames: [String], root: URL) {
        let first = images.first
        precondition(images.allSatisfy { $0.width == first?.width && $0.height == first?.width && $0.channels == first?.channels },
                     "the images must be square and of one size")
        precondition(labels.map { $0.count == images.count && $0.allSatisfy(classNames.indices.contains) } ?? true,
                     "one label in 0..<classNames.count per image")
        self.init(root: root, resolution: first?.width ?? 0, channels: first?.channels ?? 1, classNames: classNames, labels: labels,
                  paths: images.indices.map { "\(root.path)#\($0)" }, skipped: [], otherFiles: 0, sourceSizes: [:],
                  sourceKinds: [:], pixels: images.flatMap(\.planes))
    }

    /// The same images labelled by index into `names`, which must hold every one of this set's
    /// class names (a synthetic set of some classes, mixed with a real set of all of them).
    public func relabelled(to names: [String]) throws -> ImageDataset {
        guard let labels else { throw FileFormatError(path: root.path, reason: "has no class folders") }
        let missing = classNames.filter { !names.contains($0) }
        guard missing.isEmpty else {
            throw FileFormatError(path: root.path, reason: "its classes \(missing) are not among \(names)")
        }
        let index = classNames.map { names.firstIndex(of: $0)! }
        return ImageDataset(root: root, resolution: resolution, channels: channels, classNames: names, labels: labels.map { index[$0] },
                            paths: paths, skipped: skipped, otherFiles: otherFiles, sourceSizes: sourceSizes,
                            sourceKinds: sourceKinds, pixels: pixels)
    }

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
