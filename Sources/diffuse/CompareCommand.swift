import ArgumentParser
import Diffusion
import Evaluation
import Foundation
import Imaging
import NN

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run several samplers and step counts on one model, side by side: quality, diversity and time.",
        discussion: """
            Every row samples --count images with the same seeds (image i starts from the same \
            noise in every row) and is measured against the same real images: model evaluations \
            (NFE), sampling time, FID, KID, precision, recall, density and coverage. Writes \
            OUT/report.json, report.csv, report.md, a self-contained report.html with charts, and \
            OUT/grids/<sampler>-<steps>.png. The reports are rewritten after every row; a row \
            that fails is reported and the others go on.
            """
    )

    @Option(help: "The model folder (diffusers pipeline layout).")
    var model: String?
    @Option(help: "The folder of real images.")
    var real: String?
    @Option(help: "Comma-separated sampler:steps rows, e.g. ddim:50,dpmpp-2m:20,heun:10 (samplers: \(SamplerChoice.allNames.joined(separator: ", "))).")
    var schedulers: String = "ddim:50,ddim:20,ddim:10,dpmpp-2m:20,dpmpp-2m:10,unipc:10,euler:20,heun:10"
    @Option(help: "Images generated per row.")
    var count: Int = 1000
    @Option(help: "The folder for the reports and grids.")
    var out: String
    @Option(help: "Seed of the noise (the same for every row).")
    var seed: UInt64 = 0
    @Option(help: "Images per model call.")
    var batchSize: Int = 64
    @Option(help: "Images in each row's grid.")
    var gridCount: Int = 64
    @Option(help: TimestepSpacing.optionHelp)
    var timestepSpacing: TimestepSpacing?
    @Option(help: "Comma-separated classifier-free guidance scales, e.g. 1,1.5,2,3: every sampler row is run at each (needs a model trained with --class-dropout).")
    var guidance: String?
    @Option(help: "Real test images in class folders named as the model's classes: each row's images, labelled by the class they were drawn for, train a classifier (the evaluator network) whose accuracy on these is the row's tstr_accuracy.")
    var tstrTest: String?
    @Option(help: "Passes of the tstr_accuracy classifier over a row's images.")
    var tstrEpochs: Int = 3
    @OptionGroup var featureOptions: FeatureOptions
    @Flag(help: "Only rewrite OUT's report.md, report.csv and report.html from its report.json and grids (after an update of diffuse), without sampling.")
    var renderOnly = false

    /// The rows of --schedulers, in order, each at every --guidance scale.
    var rows: [ComparisonRow] {
        get throws {
            let samplers = try Self.parseRows(schedulers)
            guard let guidance else { return samplers }
            let scales = try Self.parseScales(guidance)
            return samplers.flatMap { row in scales.map { ComparisonRow(sampler: row.sampler, steps: row.steps, guidance: $0) } }
        }
    }

    /// "1,1.5,2" as guidance scales; a ValidationError names the entry that is not a finite
    /// number of 0 or more, or that comes twice.
    static func parseScales(_ list: String) throws -> [Float] {
        var scales: [Float] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let w = Float(entry), w.isFinite, w >= 0 else { throw ValidationError("--guidance: '\(entry)' is not a scale (a number, 0 or more)") }
            guard !scales.contains(w) else { throw ValidationError("--guidance: '\(entry)' comes twice") }
            scales.append(w)
        }
        guard !scales.isEmpty else { throw ValidationError("--guidance: no scales given") }
        return scales
    }

    func validate() throws {
        guard !renderOnly else { return }
        guard model != nil, real != nil else { throw ValidationError("--model and --real are required (unless --render-only)") }
        _ = try rows
        guard count >= 2 else { throw ValidationError("--count must be at least 2 (the metrics need two images)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be positive") }
        guard gridCount >= 1 else { throw ValidationError("--grid-count must be positive") }
        guard tstrEpochs >= 1 else { throw ValidationError("--tstr-epochs must be positive") }
    }

    /// "ddim:50,euler:30" as rows; a ValidationError names the entry that is not sampler:steps
    /// with a known sampler and a positive step count, or that comes twice.
    static func parseRows(_ list: String) throws -> [ComparisonRow] {
        let names = SamplerChoice.allNames.joined(separator: ", ")
        var rows: [ComparisonRow] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let steps = Int(parts[1]) else {
                throw ValidationError("--schedulers: '\(entry)' is not sampler:steps (e.g. ddim:50)")
            }
            guard SamplerChoice(name: String(parts[0])) != nil else {
                throw ValidationError("--schedulers: '\(parts[0])' is not a sampler (\(names))")
            }
            guard steps >= 1 else { throw ValidationError("--schedulers: '\(entry)': steps must be positive") }
            let row = ComparisonRow(sampler: String(parts[0]), steps: steps)
            guard !rows.contains(where: { $0.label == row.label }) else {
                throw ValidationError("--schedulers: '\(entry)' comes twice")
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { throw ValidationError("--schedulers: no rows given") }
        return rows
    }

    func run() throws {
        let outFolder = URL(fileURLWithPath: out)
        guard !renderOnly else { return try render(outFolder) }
        let (model, real) = (model!, real!)
        let rows = try self.rows
        let (denoiser, savedConfig, classNames) = try ModelFolder(URL(fileURLWithPath: model)).load()
        let schedulerConfig = savedConfig.replacingSpacing(with: timestepSpacing)
        try MemoryBudget.check("--count", count: count, floatsPerImage: denoiser.sampleShape.reduce(1, *), remedy: "compare on fewer images")
        let realListing = try ImageFolder.scan(URL(fileURLWithPath: real))
        let extractor = try featureOptions.extractor(realClasses: realListing.classNames, size: denoiser.sampleShape[2],
                                                     channels: denoiser.sampleShape[0])
        print("Features: \(extractor.name)")
        let realSet = try ImageDataset.load(folder: URL(fileURLWithPath: real), resolution: extractor.resolution,
                                            channels: extractor.channels)
        let realFeatures = try FeatureMatrix(featureOptions.realFeatures(of: realSet, extractor: extractor))
        let realPixels = PixelSet(realSet)
        let pixelReference = RealPixels(summary: PixelSummary(realPixels), floor: PixelFloor(real: realPixels, size: count, seed: seed))

        let gridFolder = outFolder.appendingPathComponent("grids")
        let lock = try FolderLock(outFolder)
        defer { withExtendedLifetime(lock) {} }
        try makeFolder(gridFolder)
        let labels = denoiser.classes(named: classNames).map { classes in (0..<count).map { $0 % classes.count } }
        let nullLabel = denoiser.classes(named: classNames)?.nullLabel
        if rows.contains(where: { ($0.guidance ?? 1) != 1 }) && nullLabel == nil {
            throw CommandError("--guidance: \(model) has no \"no class\" row to guide with (train it with --class-dropout)")
        }
        let tstrTestSet = try tstrTest.map { try loadTSTRTest($0, model: model, classNames: classNames, denoiser: denoiser) }
        let pipelines = rows.map { row in
            let choice = SamplerChoice(name: row.sampler)!
            var pipeline = SamplingPipeline(denoiser: denoiser) { try choice.make(config: schedulerConfig) }
            if let w = row.guidance, w != 1, let nullLabel { pipeline.guidance = (w, nullLabel) }
            return pipeline
        }
        // Evaluations of every row that can run, for the overall progress.
        let evaluations = zip(rows, pipelines).map { row, pipeline in (try? pipeline.evaluations(steps: row.steps)) ?? 0 }
        let totalWork = evaluations.reduce(0, +) * count
        var workDone = 0

        var report = ComparisonReport(
            command: (["diffuse"] + CommandLine.arguments.dropFirst()).map(Self.shellQuoted).joined(separator: " "),
            model: model, real: real, features: extractor.name, nReal: realSet.count, count: count, seed: seed,
            batchSize: batchSize, date: ISO8601DateFormatter().string(from: Date()),
            cores: ProcessInfo.processInfo.activeProcessorCount, rows: rows)
        if tstrTestSet != nil { (report.tstrTest, report.tstrEpochs) = (tstrTest, tstrEpochs) }
        report.floor = try Evaluator.floor(real: realFeatures, fakeCount: count, seed: seed)
        var grids: [String: [UInt8]] = [:]
        for (index, pipeline) in pipelines.enumerated() {
            var row = report.rows[index]
            let overall = totalWork > 0 ? 100 * Double(workDone) / Double(totalWork) : 100
            print(String(format: "[%d/%d] %@ (%.0f%% of all model evaluations done)", index + 1, rows.count, row.label, overall))
            do {
                let grid = try measure(&row, pipeline: pipeline, labels: labels, realFeatures: realFeatures,
                                       realPixels: pixelReference, extractor: extractor, tstrTest: tstrTestSet)
                let gridName = "grids/\(row.sampler)-\(row.steps)\(row.guidance.map { "-w\(ComparisonRow.scale($0))" } ?? "").png"
                let png = try PNG.encode(grid)
                try writeAtomically(png, to: outFolder.appendingPathComponent(gridName))
                (row.grid, grids[row.label]) = (gridName, png)
                print(Self.summary(row))
                for warning in row.metrics?.warnings ?? [] { print("Warning: \(row.label): \(warning)") }
            } catch {
                row.error = "\(error)"
                print("\(row.label) failed: \(error)")
            }
            workDone += evaluations[index] * count
            report.rows[index] = row
            try write(report, grids: grids, to: outFolder)
        }
        print("Reports: \(reportPath) (also report.md, report.csv, report.json)")
        if report.rows.allSatisfy({ $0.error != nil }) {
            throw CommandError("every row failed (the reports list why); nothing was compared")
        }
    }

    /// The real images' pixel statistics and their real-vs-real floor at --count images.
    private struct RealPixels {
        let summary: PixelSummary
        let floor: PixelFloor?
    }

    /// --tstr-test loaded at the model's image size; an error unless the model is
    /// class-conditional and the folder's classes are the model's.
    private func loadTSTRTest(_ path: String, model: String, classNames: [String], denoiser: any Denoiser) throws -> ImageDataset {
        guard denoiser.classes(named: classNames) != nil, !classNames.isEmpty else {
            throw CommandError("--tstr-test: \(model) is not class-conditional (with class names), so its images have no labels to train on")
        }
        let set = try ImageDataset.load(folder: URL(fileURLWithPath: path), resolution: denoiser.sampleShape[2],
                                        channels: denoiser.sampleShape[0])
        guard set.classNames == classNames else {
            throw CommandError("--tstr-test: \(path): its classes \(set.classNames) differ from the model's \(classNames)")
        }
        return set
    }

    /// Samples the row's images, times them and measures them; returns the row's grid.
    private func measure(_ row: inout ComparisonRow, pipeline: SamplingPipeline, labels: [Int]?, realFeatures: FeatureMatrix,
                         realPixels: RealPixels, extractor: FeatureExtractor, tstrTest: ImageDataset?) throws -> Image {
        let evaluations = try pipeline.evaluations(steps: row.steps)
        row.nfe = evaluations
        let caution = try pipeline.caution(steps: row.steps)   // listed first among the row's warnings
        let progress = Progress(total: count * evaluations, unit: "img")
        let started = Date()
        let samples = try pipeline.generate(count: count, batchSize: batchSize, steps: row.steps, seed: seed, labels: labels) { done in
            progress.update(done, "sampling", unitsPerItem: 1 / Double(evaluations))
        }
        let seconds = Date().timeIntervalSince(started)
        progress.finish()
        (row.seconds, row.imagesPerSecond) = (seconds, Double(count) / seconds)

        let images = Grid.images(fromBatch: samples)
        let (features, probabilities) = Evaluator.features(of: images, extractor: extractor)
        var metrics = try Evaluator.compare(real: realFeatures, fake: FeatureMatrix(features), extractor: extractor.name, seed: seed)
        try Evaluator.addClassScores(to: &metrics, probabilities: probabilities, extractor: extractor, seed: seed)
        Evaluator.addPixelStatistics(to: &metrics, real: realPixels.summary, fake: PixelSet(images), floor: realPixels.floor)
        if let caution { metrics.warnings = [caution] + (metrics.warnings ?? []) }
        row.metrics = metrics
        if let tstrTest, let labels {
            var recipe = EvaluatorTraining()
            (recipe.epochs, recipe.seed) = (tstrEpochs, seed)
            let generated = ImageDataset(images: images, labels: labels, classNames: tstrTest.classNames,
                                         root: URL(fileURLWithPath: "\(row.label) samples"))
            let training = Progress(total: recipe.steps(forImages: count), unit: "img")
            let network = try recipe.train(generated, progress: { step, _, _ in
                training.update(step, "tstr classifier", unitsPerItem: Double(recipe.batchSize))
            })
            training.finish()
            row.tstrAccuracy = try EvaluatorTraining.accuracy(of: network, on: tstrTest)
        }
        // Cycling classes line up in columns, one class each.
        let shown = Array(images.prefix(gridCount))
        let columns = labels.map { Set($0).count }
        return Grid.make(shown, columns: columns)
    }

    /// The HTML report's path, written as the user gave `--out`.
    private var reportPath: String { (out as NSString).appendingPathComponent("report.html") }

    /// Rewrites the reports of `folder` from its report.json and grid PNGs.
    private func render(_ folder: URL) throws {
        let file = folder.appendingPathComponent("report.json")
        guard let data = try? readSmallFile(file) else { throw CommandError("\(file.path): cannot be read") }
        let report: ComparisonReport
        do {
            report = try JSONDecoder().decode(ComparisonReport.self, from: data)
        } catch {
            throw CommandError("\(file.path): not a comparison report (\(error))")
        }
        var grids: [String: [UInt8]] = [:]
        for row in report.rows {
            guard let grid = row.grid else { continue }
            let url = folder.appendingPathComponent(grid)
            guard let bytes = try? readFileBytes(url) else { throw CommandError("\(url.path): the grid of \(row.label) cannot be read") }
            grids[row.label] = Array(bytes)
        }
        try write(report, grids: grids, to: folder)
        print("Reports: \(reportPath) (rewritten from report.json)")
    }

    private func write(_ report: ComparisonReport, grids: [String: [UInt8]], to folder: URL) throws {
        try writeAtomically(Array(try report.json()), to: folder.appendingPathComponent("report.json"))
        try writeAtomically(Array(report.csv().utf8), to: folder.appendingPathComponent("report.csv"))
        try writeAtomically(Array(report.markdown().utf8), to: folder.appendingPathComponent("report.md"))
        try writeAtomically(Array(report.html(grids: grids).utf8), to: folder.appendingPathComponent("report.html"))
    }

    static func summary(_ row: ComparisonRow) -> String {
        guard let m = row.metrics, let nfe = row.nfe, let seconds = row.seconds, let rate = row.imagesPerSecond else {
            return row.label
        }
        return String(format: "%@: %d NFE, %.1f s (%.2f images/s), FID %.3f, KID %.5f, precision %.3f, recall %.3f, "
                      + "density %.3f, coverage %.3f", row.label, nfe, seconds, rate, m.fid, m.kid, m.precision,
                      m.recall, m.density, m.coverage) + (row.tstrAccuracy.map { String(format: ", TSTR accuracy %.3f", $0) } ?? "")
    }

    /// An argument as a shell would need it to read back the same.
    static func shellQuoted(_ argument: String) -> String {
        let plain = argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=,+@".contains($0) }
        return plain && !argument.isEmpty ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
