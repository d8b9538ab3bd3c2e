import Foundation
import NN

/// The PNG files of a folder, found by signature, and their classes, before any decoding.
///
/// First-level subfolders are classes, numbered in sorted name order from 0, as torchvision's
/// ImageFolder numbers them; a folder with no subfolders is one unlabelled set. Files are found
/// recursively and listed in sorted path order, so the order is the same on every machine.
public struct ImageFolder: Sendable {
    public struct File: Sendable {
        public let url: URL
        /// The class index, or nil in a flat folder.
        public let label: Int?
    }

    public let root: URL
    /// Class names in label order; empty for a flat folder.
    public let classNames: [String]
    public let files: [File]
    /// Files that are not PNGs (by signature), which are skipped.
    public let otherFiles: Int
    /// Files named .png that are not PNGs (empty, or another format): bad input, which the
    /// dataset reports as an error or, when told to skip bad files, as a warning.
    public let mislabelled: [FileFormatError]

    /// Lists the PNG files under `root`. Throws when the folder is missing, empty, mixes
    /// top-level images with class folders, or holds no PNG at all.
    public static func scan(_ root: URL) throws -> ImageFolder {
        let path = root.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FileFormatError(path: path, reason: "no such folder")
        }
        guard isDirectory.boolValue else { throw FileFormatError(path: path, reason: "is a file, not a folder of images") }
        let entries = try listFolder(path)
        guard !entries.isEmpty else { throw FileFormatError(path: path, reason: "the folder is empty") }

        let subfolders = entries.filter(\.isFolder).map(\.path).sorted()
        var top = classify(entries.filter { !$0.isFolder }.map(\.path))
        var files: [File] = []
        if subfolders.isEmpty {
            files = top.pngs.map { File(url: URL(fileURLWithPath: $0), label: nil) }
        } else {
            if let stray = top.pngs.first ?? top.mislabelled.first?.path {
                throw FileFormatError(path: stray, reason: "an image beside class folders: put every image inside a class folder, or use a folder without subfolders")
            }
            for (label, folder) in subfolders.enumerated() {
                let inside = classify(try walk(folder))
                guard !inside.pngs.isEmpty || !inside.mislabelled.isEmpty else {
                    throw FileFormatError(path: folder, reason: "class folder has no PNG images")
                }
                files += inside.pngs.map { File(url: URL(fileURLWithPath: $0), label: label) }
                top.other += inside.other
                top.mislabelled += inside.mislabelled
            }
        }
        guard !files.isEmpty || !top.mislabelled.isEmpty else {
            let other = top.other
            throw FileFormatError(path: path, reason: "no PNG images found (\(other) other file\(other == 1 ? "" : "s"))")
        }
        return ImageFolder(root: root, classNames: subfolders.map { URL(fileURLWithPath: $0).lastPathComponent },
                           files: files, otherFiles: top.other, mislabelled: top.mislabelled)
    }

    /// The entries of a folder (hidden ones included), by POSIX readdir: Foundation's listing
    /// with resource values costs several times more per file, which shows on 60,000 files.
    private static func listFolder(_ folder: String) throws -> [(path: String, isFolder: Bool)] {
        guard let directory = opendir(folder) else {
            throw FileFormatError(path: folder, reason: "cannot list the folder (\(String(cString: strerror(errno))))")
        }
        defer { closedir(directory) }
        var entries: [(String, Bool)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name == "." || name == ".." { continue }
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            var isFolder = Int32(entry.pointee.d_type) == Int32(DT_DIR)
            if Int32(entry.pointee.d_type) == Int32(DT_UNKNOWN) || Int32(entry.pointee.d_type) == Int32(DT_LNK) {
                // The file system did not say, or a link: ask for what it points to.
                var info = stat()
                isFolder = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append((path, isFolder))
        }
        return entries
    }

    /// Every file below `folder`, at any depth.
    private static func walk(_ folder: String) throws -> [String] {
        try listFolder(folder).flatMap { $0.isFolder ? try walk($0.path) : [$0.path] }
    }

    /// `paths` sorted into PNGs (by signature, in path order), files named .png that are not
    /// PNGs, and the count of other files. Signatures are read on every core.
    private static func classify(_ paths: [String]) -> (pngs: [String], mislabelled: [FileFormatError], other: Int) {
        let sorted = paths.sorted()
        var isPNG = [Bool](repeating: false, count: sorted.count)
        isPNG.withUnsafeMutableBufferPointer { flags in
            let flags = flags
            parallelChunks(sorted.count, grain: 256) { range in
                for i in range { flags[i] = PNG.hasSignature(URL(fileURLWithPath: sorted[i])) }
            }
        }
        var pngs: [String] = [], mislabelled: [FileFormatError] = [], other = 0
        for (path, png) in zip(sorted, isPNG) {
            if png {
                pngs.append(path)
            } else if path.lowercased().hasSuffix(".png") {
                var info = stat()
                let empty = stat(path, &info) == 0 && info.st_size == 0
                mislabelled.append(FileFormatError(path: path, reason: empty
                    ? "is empty (0 bytes)" : "is named .png but is not a PNG (no PNG signature)"))
            } else {
                other += 1
            }
        }
        return (pngs, mislabelled, other)
    }
}
