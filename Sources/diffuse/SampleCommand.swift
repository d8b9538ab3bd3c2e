import ArgumentParser
import Diffusion
import Foundation
import Imaging
import NN

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate synthetic images with a trained model.",
        discussion: """
            Writes OUT/000000.png, 000001.png, ... Image i depends only on (--seed, i): \
            --count 8 gives the first 8 images of --count 16, bit for bit, whatever the \
            batch size (on the same machine and instruction set: another CPU may round \
            differently in the last bits). A \
            class-conditional model cycles through its classes (image i has class i mod K) \
            unless --class is given. --shard i/n makes only the i-th of n contiguous blocks of \
            the --count images, named as the whole run names them: n machines (a Slurm job \
            array, a Kubernetes Indexed Job) writing into one folder make the same set as one. \
            --per-class N or --class-counts NAME=N,... write a labelled set instead, \
            OUT/<class>/NNNNNN.png (an image folder train, evaluate and torchvision's ImageFolder \
            read as labelled data); image i of class c depends only on (--seed, c, i), so a set \
            made larger keeps the images it had.
            """
    )

    @Option(help: "The model folder (diffusers pipeline layout).")
    var model: String
    @Option(help: "The folder for the images.")
    var out: String
    @Option(help: "The sampler.")
    var scheduler = SamplerChoice(kind: .ddim)
    @Option(help: "Sampling steps n; default 1000 for ddpm, 50 otherwise. The model runs n times, but 2n - 1 for heun and n + 9 for pndm (n + 1 with skip_prk_steps).")
    var steps: Int?
    @Option(help: "DDIM's eta: 0 is deterministic, 1 adds DDPM-like noise.")
    var eta: Float = 0
    @Option(help: "How many images.")
    var count: Int = 64
    @Option(help: "Images per model call.")
    var batchSize: Int = 32
    @Option(help: "Seed of the noise.")
    var seed: UInt64 = 0
    @Option(help: "Only this class (a name or an index) for a class-conditional model.")
    var `class`: String?
    @Option(help: "Also write the images as one grid PNG here.")
    var grid: String?
    @Option(help: "Enlarge the grid this many times, each pixel a block (nearest neighbour), for viewing small images.")
    var gridScale: Int = 1
    @Option(help: "Start from this standard-normal noise (.npy, N x C x H x W) instead of the seed's.")
    var latents: String?
    @Option(help: "Also write the final samples in model space, unclamped (.npy, N x C x H x W Float32).")
    var raw: String?

    @Option(help: TimestepSpacing.optionHelp)
    var timestepSpacing: TimestepSpacing?
    @Option(help: "Make only shard i of n (0-based): the i-th of n contiguous blocks of the --count images; --latents, --grid and --raw then cover that block.")
    var shard: Shard?
    @Option(help: "Classifier-free guidance: uncond + W (cond - uncond) at every step; 1 is plain conditional sampling, larger W shows the class more strongly. Needs a model trained with --class-dropout.")
    var guidanceScale: Float = 1
    @Option(help: "A labelled set: this many images of every class, in OUT/<class>/.")
    var perClass: Int?
    @Option(help: "A labelled set of any mix: NAME=N (or INDEX=N) for each class wanted, comma-separated, in OUT/<class>/.")
    var classCounts: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be positive") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be positive") }
        guard (1...16).contains(gridScale) else { throw ValidationError("--grid-scale must be between 1 and 16") }
        if let steps, steps < 1 { throw ValidationError("--steps must be positive") }
        guard eta >= 0, eta <= 1 else { throw ValidationError("--eta must be in [0, 1] (0: deterministic DDIM, 1: DDPM-like noise)") }
        guard guidanceScale.isFinite else { throw ValidationError("--guidance-scale must be a finite number") }
        if let shard, shard.total > count { throw ValidationError("--shard \(shard): more shards than the \(count) images") }
        if perClass != nil || classCounts != nil {
            guard perClass == nil || classCounts == nil else { throw ValidationError("--per-class and --class-counts exclude each other") }
            guard `class` == nil, shard == nil, latents == nil, raw == nil else {
                throw ValidationError("--per-class and --class-counts do not go with --class, --shard, --latents or --raw")
            }
            if let perClass, perClass < 1 { throw ValidationError("--per-class must be positive") }
        }
    }

    func run() throws {
        let (denoiser, savedConfig, classNames) = try ModelFolder(URL(fileURLWithPath: model)).load()
        let schedulerConfig = savedConfig.replacingSpacing(with: timestepSpacing)
        let choice = scheduler
        let stepCount = steps ?? (choice.kind == .ddpm ? 1000 : 50)
        var pipeline = SamplingPipeline(denoiser: denoiser) {
            let made = try choice.make(config: schedulerConfig)
            (made as? DDIMScheduler)?.eta = eta
            return made
        }
        if guidanceScale != 1 {
            guard let nullLabel = denoiser.classes(named: classNames)?.nullLabel else {
                throw CommandError("--guidance-scale \(guidanceScale): \(model) has no \"no class\" row to guide with (train it with --class-dropout)")
            }
            pipeline.guidance = (guidanceScale, nullLabel)
        }
        if let caution = try pipeline.caution(steps: stepCount) {
            FileHandle.standardError.write(Data("warning: \(caution)\n".utf8))
        }
        if perClass != nil || classCounts != nil {
            return try writeLabelledSet(pipeline: pipeline, classNames: classNames, steps: stepCount)
        }
        let imageShape = pipeline.imageShape
        let images = shard?.images(of: count) ?? 0..<count
        try MemoryBudget.check("--count", count: images.count, floatsPerImage: imageShape.reduce(1, *),
                               remedy: "make the set in shards (--shard i/n)")
        var startNoise: Tensor?
        if let latents {
            let array = try Npy.read(from: URL(fileURLWithPath: latents)).tensor()
            guard array.shape == [images.count] + imageShape else {
                throw CommandError("\(latents): shape \(array.shape), expected \([images.count] + imageShape) for \(images.count) images")
            }
            startNoise = array
        }
        let labels = try classLabels(denoiser: denoiser, classNames: classNames).map { Array($0[images]) }

        let evaluations = try pipeline.evaluations(steps: stepCount)   // rejects a bad step count before any work
        let outFolder = URL(fileURLWithPath: out)
        let progress = Progress(total: images.count * evaluations, unit: "img")
        let started = Date()
        let samples = try pipeline.generate(images: images, batchSize: batchSize, steps: stepCount, seed: seed,
                                            latents: startNoise, labels: labels) { done in
            progress.update(done, "", unitsPerItem: 1 / Double(evaluations))
        }
        progress.finish()
        // Shards of one run write one folder together by design (different files); other runs
        // would overwrite each other's images.
        let lock = shard == nil ? try FolderLock(outFolder) : nil
        defer { withExtendedLifetime(lock) {} }
        try makeFolder(outFolder)
        for (index, image) in zip(images, Grid.images(fromBatch: samples)) {
            try PNG.write(image, to: outFolder.appendingPathComponent(String(format: "%06d.png", index)))
        }
        let seconds = Date().timeIntervalSince(started)
        if let raw { try Npy.write(samples, to: URL(fileURLWithPath: raw)) }
        if let grid {
            // Cycling classes line up in columns, one class each.
            let classes = `class` == nil ? denoiser.classes(named: classNames)?.count : nil
            let columns = classes ?? Int(Double(images.count).squareRoot().rounded(.up))
            try PNG.write(Grid.make(Grid.images(fromBatch: samples), columns: columns).magnified(by: gridScale),
                          to: URL(fileURLWithPath: grid))
        }
        let which = shard.map { " (shard \($0): images \(images.lowerBound) to \(images.upperBound - 1) of \(count))" } ?? ""
        print(String(format: "Wrote %d images%@ to %@ with %@, %d steps, in %.1f s (%.2f images/s)", images.count, which, out,
                     scheduler.description, stepCount, seconds, Double(images.count) / seconds) + (grid.map { "; grid: \($0)" } ?? ""))
    }

    /// One label per image: --class for all, else cycling through the classes; nil for an
    /// unconditional model.
    private func classLabels(denoiser: any Denoiser, classNames: [String]) throws -> [Int]? {
        guard let classes = denoiser.classes(named: classNames)?.count else {
            if let `class` { throw CommandError("--class \(`class`): \(model) is not a class-conditional model") }
            return nil
        }
        guard let `class` else { return (0..<count).map { $0 % classes } }
        let index = Int(`class`) ?? classNames.firstIndex(of: `class`)
        guard let index, index >= 0, index < classes else {
            let known = classNames.isEmpty ? "0..<\(classes)" : classNames.joined(separator: ", ")
            throw CommandError("--class \(`class`): not a class of \(model) (\(known))")
        }
        return [Int](repeating: index, count: count)
    }
}

/// `--shard i/n`: the i-th (0-based) of n contiguous blocks of a run's images.
struct Shard: ExpressibleByArgument, CustomStringConvertible {
    let index: Int
    let total: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let total = Int(parts[1]), total >= 1, index >= 0, index < total else {
            return nil
        }
        (self.index, self.total) = (index, total)
    }

    var description: String { "\(index)/\(total)" }

    /// Images index * count / total ..< (index + 1) * count / total: blocks that differ by at most one image.
    func images(of count: Int) -> Range<Int> { (index * count / total)..<((index + 1) * count / total) }
}
