import Foundation
import Imaging
import NN

/// Features of real image folders, saved and reused. The key is a digest of the extractor's
/// name, the preprocessing (resolution, channels) and every file of the folder (relative path
/// and bytes), so a changed, added or removed image gives a new key. Entries live in
/// $DIFFUSE_CACHE, else $XDG_CACHE_HOME/diffuse, else ~/.cache/diffuse, as
/// features-<key>.safetensors.
public struct FeatureCache {
    public let folder: URL

    public init(folder: URL = FeatureCache.defaultFolder) { self.folder = folder }

    public static var defaultFolder: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["DIFFUSE_CACHE"] { return URL(fileURLWithPath: path) }
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("diffuse")
    }

    /// The cache key of `dataset`'s files read by `extractor`.
    public static func key(for dataset: ImageDataset, extractor: FeatureExtractor) throws -> String {
        var hash = FNV1a()
        hash.add(Array("\(extractor.name)|\(dataset.resolution)|\(dataset.channels)|\(dataset.count)".utf8))
        let prefix = dataset.root.path.hasSuffix("/") ? dataset.root.path : dataset.root.path + "/"
        for path in dataset.paths {
            // Relative paths: a folder that moves keeps its key.
            hash.add(Array((path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path).utf8))
            hash.add(try readFileBytes(URL(fileURLWithPath: path)))
        }
        return String(format: "%016llx", hash.value)
    }

    private func file(_ key: String) -> URL { folder.appendingPathComponent("features-\(key).safetensors") }

    /// The cached features for `key`, if any (a damaged entry counts as missing).
    public func load(_ key: String) -> Tensor? {
        (try? SafeTensors.read(from: file(key)))?["features"]
    }

    public func store(_ features: Tensor, key: String, description: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try SafeTensors.write(["features": features], metadata: ["source": description], to: file(key))
    }
}
