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

    /// The first shipped evaluator trained on exactly these classes with this channel count.
    static func matching(classNames: [String], channels: Int) -> EvaluatorExtractor? {
        guard !classNames.isEmpty else { return nil }
        for models in modelFolders {
            let entries = (try? FileManager.default.contentsOfDirectory(at: models, includingPropertiesForKeys: nil)) ?? []
            for folder in entries.sorted(by: { $0.path < $1.path }) {
                guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path),
                      let extractor = try? EvaluatorFolder.load(from: folder),
                      extractor.network.config.classNames == classNames, extractor.channels == channels else { continue }
                return extractor
            }
        }
        return nil
    }
}
