import Evaluation
import Foundation

/// Evaluators shipped in the repository's Models/ folder, found from the working directory or
/// from the tool's location (.build/<configuration>/diffuse).
enum ShippedEvaluators {
    static var modelFolders: [URL] {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Models"),
                          executable.deletingLastPathComponent().appendingPathComponent("../../Models").standardizedFileURL,
                          executable.deletingLastPathComponent().appendingPathComponent("../../../Models").standardizedFileURL]
        return candidates.filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The shipped evaluator trained on exactly these classes with this channel count; of
    /// several, the newest architecture (an older one stays selectable by name).
    static func matching(classNames: [String], channels: Int) -> EvaluatorExtractor? {
        guard !classNames.isEmpty else { return nil }
        for models in modelFolders {
            let entries = (try? FileManager.default.contentsOfDirectory(at: models, includingPropertiesForKeys: nil)) ?? []
            let candidates = entries.sorted(by: { $0.path < $1.path }).compactMap { folder -> EvaluatorExtractor? in
                guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path),
                      let extractor = try? EvaluatorFolder.load(from: folder),
                      extractor.network.config.classNames == classNames, extractor.channels == channels else { return nil }
                return extractor
            }
            let known = EvaluatorNetwork.Config.knownArchitectures
            if let newest = candidates.max(by: { known.firstIndex(of: $0.network.config.architecture)! < known.firstIndex(of: $1.network.config.architecture)! }) {
                return newest
            }
        }
        return nil
    }

    /// The evaluator `pathOrName`: a folder, or else the name of a folder under a Models/ folder.
    static func load(_ pathOrName: String) throws -> EvaluatorExtractor {
        let given = URL(fileURLWithPath: pathOrName)
        if FileManager.default.fileExists(atPath: given.path) { return try EvaluatorFolder.load(from: given) }
        if !pathOrName.contains("/"), let shipped = modelFolders.map({ $0.appendingPathComponent(pathOrName) })
            .first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
            return try EvaluatorFolder.load(from: shipped)
        }
        throw CommandError("--evaluator \(pathOrName): no such folder, and no shipped evaluator of that name in Models/")
    }
}
