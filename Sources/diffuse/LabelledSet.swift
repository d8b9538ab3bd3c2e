import ArgumentParser
import Diffusion
import Foundation
import Imaging
import NN

/// `sample --per-class N` and `--class-counts NAME=N,...`: a labelled set in class folders.
extension Sample {
    /// How many images of each class (by class index) the flags ask for, in class order;
    /// a ValidationError names the entry of --class-counts that is wrong.
    static func requestedCounts(perClass: Int?, classCounts: String?, classNames: [String]) throws -> [(label: Int, count: Int)] {
        if let perClass { return classNames.indices.map { ($0, perClass) } }
        var counts: [Int: Int] = [:]
        for entry in (classCounts ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let count = Int(parts[1]) else {
                throw ValidationError("--class-counts: '\(entry)' is not NAME=N")
            }
            guard let label = classNames.firstIndex(of: parts[0]) ?? Int(parts[0]).flatMap({ classNames.indices.contains($0) ? $0 : nil }) else {
                throw ValidationError("--class-counts: '\(parts[0])' is not a class of the model (\(classNames.joined(separator: ", ")))")
            }
            guard count >= 1 else { throw ValidationError("--class-counts: '\(entry)': the count must be positive") }
            guard counts[label] == nil else { throw ValidationError("--class-counts: '\(parts[0])' comes twice") }
            counts[label] = count
        }
        guard !counts.isEmpty else { throw ValidationError("--class-counts: no classes given") }
        return counts.keys.sorted().map { ($0, counts[$0]!) }
    }

    /// Writes OUT/<class>/NNNNNN.png for every class asked for; image i of class c starts from
    /// the noise of seed derive(seed, c + 1) at image i, whatever else is asked.
    func writeLabelledSet(pipeline: SamplingPipeline, classNames savedNames: [String], steps: Int) throws {
        guard let classes = pipeline.denoiser.classes(named: savedNames)?.count else {
            throw CommandError("--per-class/--class-counts: \(model) is not a class-conditional model")
        }
        let classNames = savedNames.count == classes ? savedNames : (0..<classes).map { String($0) }
        let requests = try Self.requestedCounts(perClass: perClass, classCounts: classCounts, classNames: classNames)
        let evaluations = try pipeline.evaluations(steps: steps)
        let total = requests.reduce(0) { $0 + $1.count }
        // One class is held in memory at a time.
        try MemoryBudget.check("--per-class/--class-counts", count: requests.map(\.count).max() ?? 0,
                               floatsPerImage: pipeline.imageShape.reduce(1, *), remedy: "ask for fewer images a class")
        let lock = try FolderLock(URL(fileURLWithPath: out))
        defer { withExtendedLifetime(lock) {} }
        let progress = Progress(total: total * evaluations, unit: "img")
        let started = Date()
        var done = 0, shown: [[Image]] = []
        for (label, count) in requests {
            let folder = URL(fileURLWithPath: out).appendingPathComponent(classNames[label])
            try makeFolder(folder)
            let samples = try pipeline.generate(images: 0..<count, batchSize: batchSize, steps: steps,
                                                seed: SeedSequence.derive(seed, UInt64(label + 1)),
                                                labels: [Int](repeating: label, count: count)) { evaluated in
                progress.update(done * evaluations + evaluated, classNames[label], unitsPerItem: 1 / Double(evaluations))
            }
            let images = Grid.images(fromBatch: samples)
            for (index, image) in images.enumerated() {
                try PNG.write(image, to: folder.appendingPathComponent(String(format: "%06d.png", index)))
            }
            shown.append(Array(images.prefix(8)))
            done += count
        }
        progress.finish()
        let seconds = Date().timeIntervalSince(started)
        if let grid {
            // One column a class, its first images down it.
            let rows = shown.map(\.count).max() ?? 0
            let blank = Image(width: shown[0][0].width, height: shown[0][0].height, channels: shown[0][0].channels,
                              pixels: [UInt8](repeating: 255, count: shown[0][0].pixels.count))
            let cells = (0..<rows).flatMap { row in shown.map { row < $0.count ? $0[row] : blank } }
            try PNG.write(Grid.make(cells, columns: shown.count).magnified(by: gridScale), to: URL(fileURLWithPath: grid))
        }
        let summary = requests.map { "\(classNames[$0.label]) \($0.count)" }.joined(separator: ", ")
        print(String(format: "Wrote %d images in %d class folders to %@ (%@) with %@, %d steps, in %.1f s (%.2f images/s)",
                     total, requests.count, out, summary, scheduler.description, steps, seconds, Double(total) / seconds)
              + (grid.map { "; grid: \($0)" } ?? ""))
    }
}
