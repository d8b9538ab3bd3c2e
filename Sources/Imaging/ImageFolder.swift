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
        let entries = try contents(of: root)
        guard !entries.isEmpty else { throw FileFormatError(path: path, reason: "the folder is empty") }

        let subfolders = entries.filter(isFolder).sorted { $0.lastPathComponent < $1.lastPathComponent }
        let topFiles = entries.filter { !isFolder($0) }
        var files: [File] = []
        var sorted = sort(topFiles)
        if subfolders.isEmpty {
            files = sorted.pngs.map { File(url: $0, label: nil) }
        } else {
            if let stray = sorted.pngs.first ?? sorted.mislabelled.first.map({ URL(fileURLWithPath: $0.path) }) {
                throw FileFormatError(path: stray.path, reason: "an image beside class folders: put every image inside a class folder, or use a folder without subfolders")
            }
            for (label, folder) in subfolders.enumerated() {
                let inside = sort(try walk(folder))
                guard !inside.pngs.isEmpty || !inside.mislabelled.isEmpty else {
                    throw FileFormatError(path: folder.path, reason: "class folder has no PNG images")
                }
                files += inside.pngs.map { File(url: $0, label: label) }
                sorted.other += inside.other
                sorted.mislabelled += inside.mislabelled
            }
        }
        guard !files.isEmpty || !sorted.mislabelled.isEmpty else {
            let other = sorted.other
            throw FileFormatError(path: path, reason: "no PNG images found (\(other) other file\(other == 1 ? "" : "s"))")
        }
        return ImageFolder(root: root, classNames: subfolders.map(\.lastPathComponent), files: files,
                           otherFiles: sorted.other, mislabelled: sorted.mislabelled)
    }

    private static func isFolder(_ url: URL) -> Bool {
        (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true
    }

    private static func contents(of folder: URL) throws -> [URL] {
        do {
            return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey])
        } catch {
            throw FileFormatError(path: folder.path, reason: "cannot list the folder (\(error.localizedDescription))")
        }
    }

    /// Every file below `folder`, at any depth.
    private static func walk(_ folder: URL) throws -> [URL] {
        try contents(of: folder).flatMap { isFolder($0) ? try walk($0) : [$0] }
    }

    /// `urls` sorted into PNGs (by signature, in path order), files named .png that are not
    /// PNGs, and the count of other files.
    private static func sort(_ urls: [URL]) -> (pngs: [URL], mislabelled: [FileFormatError], other: Int) {
        var pngs: [URL] = [], mislabelled: [FileFormatError] = [], other = 0
        for url in urls.sorted(by: { $0.path < $1.path }) {
            if PNG.hasSignature(url) {
                pngs.append(url)
            } else if url.pathExtension.lowercased() == "png" {
                let size = (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
                mislabelled.append(FileFormatError(path: url.path, reason: size == 0
                    ? "is empty (0 bytes)" : "is named .png but is not a PNG (no PNG signature)"))
            } else {
                other += 1
            }
        }
        return (pngs, mislabelled, other)
    }
}
