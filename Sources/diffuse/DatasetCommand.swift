import ArgumentParser
import Foundation
import Imaging
import NN

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Show what a model would train on: images, classes, sizes, kinds, skipped files.",
        discussion: """
            Reads every PNG under DIR (found by signature; first-level subfolders are classes), \
            converts it to the channel count and fits it to the resolution as training would \
            (shorter side resized with antialiased bilinear filtering, then centre-cropped).
            """
    )

    @Option(help: "The image folder.")
    var data: String
    @Option(help: "Side of the square images the model sees.")
    var resolution: Int = 32
    @Option(help: "1 (gray) or 3 (RGB).")
    var channels: Int = 3
    @Flag(help: "Skip files that fail to decode, listing them, instead of stopping.")
    var skipBad = false
    @Option(help: "Write the preprocessed images as N x C x H x W Float32 in [-1, 1] (.npy).")
    var export: String?
    @Option(help: "Write the labels as N int64 values (.npy).")
    var exportLabels: String?

    func validate() throws {
        guard channels == 1 || channels == 3 else { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
        guard resolution >= 4 && resolution <= 4096 else { throw ValidationError("--resolution must be within 4...4096, got \(resolution)") }
    }

    func run() throws {
        let start = Date()
        let dataset = try ImageDataset.load(folder: URL(fileURLWithPath: data), resolution: resolution,
                                            channels: channels, skipBad: skipBad)
        let seconds = Date().timeIntervalSince(start)
        print("Folder:     \(data)")
        print("Images:     \(dataset.count) PNG (\(String(format: "%.1f", seconds)) s to decode and preprocess)")
        print("Other files skipped: \(dataset.otherFiles)")
        if dataset.classNames.isEmpty {
            print("Classes:    none (a flat folder: unlabelled)")
        } else {
            print("Classes:    \(dataset.classNames.count)")
            var counts = [Int](repeating: 0, count: dataset.classNames.count)
            for label in dataset.labels ?? [] { counts[label] += 1 }
            let width = dataset.classNames.map(\.count).max() ?? 0
            for (label, name) in dataset.classNames.enumerated() {
                print("  \(label)  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(counts[label])")
            }
        }
        print("Source sizes: " + describe(dataset.sourceSizes))
        print("Source kinds: " + describe(dataset.sourceKinds))
        print("Model input:  \(channels) x \(resolution) x \(resolution), Float32 in [-1, 1]")
        if dataset.skipped.isEmpty {
            print("Skipped:    none")
        } else {
            print("Skipped:    \(dataset.skipped.count)")
            for (path, reason) in dataset.skipped { print("  \(path): \(reason)") }
        }
        if let export {
            try Npy.write(dataset.tensor(), to: URL(fileURLWithPath: export))
            print("Wrote \(export)")
        }
        if let exportLabels {
            guard let labels = dataset.labels else { throw CommandError("\(data): a flat folder has no labels to export") }
            try Npy.write(labels.map(Int64.init), shape: [labels.count], to: URL(fileURLWithPath: exportLabels))
            print("Wrote \(exportLabels)")
        }
    }

    /// "28x28 (60000), 32x32 (12)": most common first.
    private func describe(_ counts: [String: Int]) -> String {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
    }
}
