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
    /// Entries that are not PNGs (by signature), which are skipped: other files, hidden files,
    /// FIFOs, sockets, devices, and folders reached a second time through a link.
    public let otherFiles: Int
    /// Files named .png that are not PNGs (empty, or another format) and names that are not
    /// UTF-8: bad input, which the dataset reports as an error or, when told to skip bad files, as a warning.
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
        var info = stat()
        var seen: Set<[UInt64]> = stat(path, &info) == 0 ? [[UInt64(info.st_dev), UInt64(info.st_ino)]] : []
        var badNames: [FileFormatError] = []
        let entries = try listFolder(path, seen: &seen, badNames: &badNames)
        guard !entries.isEmpty || !badNames.isEmpty else { throw FileFormatError(path: path, reason: "the folder is empty") }

        let subfolders = entries.filter { $0.kind == .folder }.map(\.path).sorted()
        var top = classify(entries.filter { $0.kind == .file }.map(\.path))
        top.other += entries.filter { $0.kind == .skipped }.count
        var files: [File] = []
        if subfolders.isEmpty {
            files = top.pngs.map { File(url: URL(fileURLWithPath: $0), label: nil) }
        } else {
            if let stray = top.pngs.first ?? top.mislabelled.first?.path {
                throw FileFormatError(path: stray, reason: "an image beside class folders: put every image inside a class folder, or use a folder without subfolders")
            }
            for (label, folder) in subfolders.enumerated() {
                let found = try walk(folder, seen: &seen, badNames: &badNames)
                var inside = classify(found.files)
                inside.other += found.skipped
                guard !inside.pngs.isEmpty || !inside.mislabelled.isEmpty else {
                    throw FileFormatError(path: folder, reason: "class folder has no PNG images")
                }
                files += inside.pngs.map { File(url: URL(fileURLWithPath: $0), label: label) }
                top.other += inside.other
                top.mislabelled += inside.mislabelled
            }
        }
        top.mislabelled += badNames
        guard !files.isEmpty || !top.mislabelled.isEmpty else {
            let other = top.other
            throw FileFormatError(path: path, reason: "no PNG images found (\(other) other file\(other == 1 ? "" : "s"))")
        }
        return ImageFolder(root: root, classNames: subfolders.map { URL(fileURLWithPath: $0).lastPathComponent },
                           files: files, otherFiles: top.other, mislabelled: top.mislabelled)
    }

    /// What a folder entry is to a scan.
    private enum Kind { case folder, file, skipped }

    /// The entries of a folder by POSIX readdir (Foundation's listing with resource values costs
    /// several times more per file, which shows on 60,000 files). Links are followed; hidden
    /// entries (a leading dot: editors' and interrupted writes' temporary files), FIFOs,
    /// sockets and devices are skipped (opening a FIFO would wait forever), and so is a folder
    /// already in `seen` (its device and inode), so a link loop is walked once. A name that is not
    /// UTF-8 is reported as bad input, since no path could reach the file again.
    private static func listFolder(_ folder: String, seen: inout Set<[UInt64]>,
                                   badNames: inout [FileFormatError]) throws -> [(path: String, kind: Kind)] {
        guard let directory = opendir(folder) else {
            throw FileFormatError(path: folder, reason: "cannot list the folder (\(String(cString: strerror(errno))))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            guard let name = String(validating: bytes, as: UTF8.self) else {
                badNames.append(FileFormatError(path: folder + "/" + String(decoding: bytes, as: UTF8.self),
                                                reason: "its name is not valid UTF-8; rename it"))
                continue
            }
            if name != "." && name != ".." { names.append(name) }
        }
        // In name order, so that of two ways into one folder the first name is the one kept.
        var entries: [(String, Kind)] = []
        for name in names.sorted() {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            guard !name.hasPrefix(".") else { entries.append((path, .skipped)); continue }
            var info = stat()
            guard stat(path, &info) == 0 else { entries.append((path, .skipped)); continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                let identity = [UInt64(info.st_dev), UInt64(info.st_ino)]
                entries.append((path, seen.insert(identity).inserted ? .folder : .skipped))
            case S_IFREG: entries.append((path, .file))
            default: entries.append((path, .skipped))
            }
        }
        return entries
    }

    /// Every file below `folder`, at any depth, and how many entries were skipped.
    private static func walk(_ folder: String, seen: inout Set<[UInt64]>,
                             badNames: inout [FileFormatError]) throws -> (files: [String], skipped: Int) {
        var files: [String] = [], skipped = 0
        for entry in try listFolder(folder, seen: &seen, badNames: &badNames) {
            switch entry.kind {
            case .folder:
                let inside = try walk(entry.path, seen: &seen, badNames: &badNames)
                (files, skipped) = (files + inside.files, skipped + inside.skipped)
            case .file: files.append(entry.path)
            case .skipped: skipped += 1
            }
        }
        return (files, skipped)
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
