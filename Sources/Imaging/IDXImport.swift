import Foundation
import NN

/// Writes IDX image arrays (MNIST, Fashion-MNIST) as a class-folder PNG tree:
/// `out/<class name>/<index>.png`, index being the image's position in the IDX file, zero-padded
/// so that names sort in file order.
public enum IDXImport {
    /// Fashion-MNIST's classes in label order.
    public static let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Where Debian's `dataset-fashion-mnist` package installs the IDX files.
    public static let fashionMNISTFolder = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// The IDX files of a Fashion-MNIST split ("train" or "test") in `folder`.
    public static func fashionMNISTFiles(split: String, folder: URL = fashionMNISTFolder) -> (images: URL, labels: URL) {
        let prefix = split == "train" ? "train" : "t10k"
        return (folder.appendingPathComponent("\(prefix)-images-idx3-ubyte.gz"),
                folder.appendingPathComponent("\(prefix)-labels-idx1-ubyte.gz"))
    }

    /// A class name as a folder name: path separators become "-".
    public static func folderName(_ className: String) -> String {
        className.replacingOccurrences(of: "/", with: "-")
    }

    /// Writes the first `limit` images (all by default) of `images` (N, H, W) or (N, H, W, 1|3)
    /// into class folders of `out` named by `classNames[label]` (by default the label number,
    /// zero-padded). `out` must be missing or empty: nothing already there is overwritten.
    /// Returns the number of images per class folder.
    @discardableResult
    public static func write(images: IDXArray, labels: IDXArray, imagesPath: String, labelsPath: String,
                             classNames: [String]?, out: URL, limit: Int? = nil) throws -> [String: Int] {
        let shape = images.shape
        guard shape.count == 3 || (shape.count == 4 && (shape[3] == 1 || shape[3] == 3)) else {
            throw FileFormatError(path: imagesPath, reason: "image array has shape \(shape); expected (N, H, W) or (N, H, W, 1|3)")
        }
        guard labels.shape.count == 1 else {
            throw FileFormatError(path: labelsPath, reason: "label array has shape \(labels.shape); expected (N)")
        }
        guard labels.shape[0] == shape[0] else {
            throw FileFormatError(path: labelsPath, reason: "\(labels.shape[0]) labels for \(shape[0]) images in \(imagesPath)")
        }
        let count = min(limit ?? shape[0], shape[0])
        let largest = Int(labels.values.prefix(count).max() ?? 0)
        let names: [String]
        if let classNames {
            guard largest < classNames.count else {
                throw FileFormatError(path: labelsPath, reason: "label \(largest) but only \(classNames.count) class names given")
            }
            names = classNames.map(folderName)
        } else {
            let digits = String(largest).count
            names = (0...largest).map { String(repeating: "0", count: digits - String($0).count) + String($0) }
        }
        try prepareEmptyFolder(out)

        let (height, width, channels) = (shape[1], shape[2], shape.count == 4 ? shape[3] : 1)
        let imageBytes = height * width * channels
        let digits = max(6, String(shape[0] - 1).count)
        for name in Set(names) {
            try FileManager.default.createDirectory(at: out.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        // Encode on every core; the first failure, if any, is reported.
        var failures = [Error?](repeating: nil, count: workerCount(count, grain: 1))
        failures.withUnsafeMutableBufferPointer { failures in
            let failures = failures
            parallelWorkers(count) { worker, range in
                do {
                    for i in range {
                        let pixels = Array(images.values[(i * imageBytes)..<((i + 1) * imageBytes)])
                        let image = Image(width: width, height: height, channels: channels, pixels: pixels)
                        let number = String(i)
                        let file = String(repeating: "0", count: max(0, digits - number.count)) + number + ".png"
                        try PNG.write(image, to: out.appendingPathComponent(names[Int(labels.values[i])]).appendingPathComponent(file))
                    }
                } catch {
                    failures[worker] = error
                }
            }
        }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
        var perClass: [String: Int] = [:]
        for i in 0..<count { perClass[names[Int(labels.values[i])], default: 0] += 1 }
        return perClass
    }

    /// Creates `folder` if missing; refuses one that already holds files.
    private static func prepareEmptyFolder(_ folder: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FileFormatError(path: folder.path, reason: "exists and is not a folder") }
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            guard existing.isEmpty else {
                throw FileFormatError(path: folder.path, reason: "already exists and is not empty; choose a new output folder")
            }
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FileFormatError(path: folder.path, reason: "cannot create the folder (\(error.localizedDescription))")
        }
    }
}
