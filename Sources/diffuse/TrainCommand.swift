import ArgumentParser
import Diffusion
import Distributed
import Foundation
import Imaging
import NN

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a U-Net on a folder of images.",
        discussion: """
            Writes a diffusers pipeline folder to OUT (EMA weights as the U-Net's weights) with \
            loss.csv, loss.svg, sample grids under samples/ and the state for --resume under \
            training_state/. Class subfolders make a class-conditional model. Ctrl-C (or SIGTERM) \
            saves a checkpoint and stops; `diffuse train --out OUT --resume` continues the run \
            exactly where it stopped. Under `mpirun -np K` (Open MPI) the K processes share every \
            batch (each takes its slice; gradients are summed with MPI_Allreduce), process 0 \
            writes the files, and a signal to any process stops them all at one checkpoint; a run \
            may resume with another K.
            """
    )

    @Option(help: "The image folder (PNG; class subfolders become labels).")
    var data: String?
    @Option(help: "The run folder to write.")
    var out: String
    @Flag(help: "Continue the run in OUT from its last checkpoint (its saved settings are used).")
    var resume = false

    @Option(help: "Side of the square images the model sees (divisible by 4 for the presets).")
    var resolution: Int?
    @Option(help: "1 (gray) or 3 (RGB).")
    var channels: Int?
    @Option(help: "The model size.")
    var preset: UNetPreset = .tiny
    @Option(help: "A UNet2DModel config.json to train instead of a preset.")
    var config: String?
    @Flag(help: "Ignore class subfolders: train one unconditional model.")
    var unconditional = false
    @Option(help: ArgumentHelp("Fine-tune this model folder instead of starting from random weights: its architecture, weights, noise schedule and prediction type; the data must have its classes. With --class-dropout, a model without a \"no class\" row gets one.", valueName: "model"))
    var initFrom: String?

    @Option(help: "Total optimizer steps.")
    var steps: Int?
    @Option(help: "Images per step.")
    var batchSize: Int = 64
    @Option(help: "Peak learning rate (linear warm-up, then cosine decay to 0).")
    var learningRate: Double = 1e-4
    @Option(help: "Warm-up steps.")
    var warmupSteps: Int = 500
    @Option(help: "AdamW beta1.")
    var adamBeta1: Double = 0.95
    @Option(help: "AdamW beta2.")
    var adamBeta2: Double = 0.999
    @Option(help: "AdamW weight decay.")
    var weightDecay: Double = 1e-6
    @Option(help: "Largest EMA decay (warm-up: 1 - (1 + step)^-0.75).")
    var emaMaxDecay: Float = 0.9999
    @Option(help: "What the model predicts (default: epsilon, or the --init-from model's).")
    var predictionType: PredictionType?
    @Option(help: "The noise schedule (default: linear, or the --init-from model's).")
    var betaSchedule: NoiseSchedule.BetaSchedule?
    @Option(help: "Min-SNR loss weighting with this gamma (5 is the paper's choice).")
    var minSnrGamma: Float?
    @Option(help: "With class folders: the chance that an image's label is replaced by the model's extra \"no class\" row, so that `sample --guidance-scale` can steer it (classifier-free guidance); 0 for a model without that row.")
    var classDropout: Float = 0.1
    @Flag(help: "Mirror images left to right at random.")
    var randomFlip = false
    @Option(help: "Seed of every random choice of the run.")
    var seed: UInt64 = 0
    @Flag(help: "Skip images that fail to decode instead of stopping.")
    var skipBad = false

    @OptionGroup var timestepBias: TimestepBiasFlags
    @OptionGroup var privacy: PrivacyFlags

    @Option(help: "Save a checkpoint every N steps (default: \(TrainingRun.defaultCheckpointEvery); a resumed run keeps its own).")
    var checkpointEvery: Int?
    @Option(help: "Write a grid of EMA samples every N steps, 0 for never (default: 0; a resumed run keeps its own).")
    var sampleEvery: Int?

    func validate() throws {
        if !resume {
            guard data != nil else { throw ValidationError("--data is required (or --resume to continue a run)") }
            guard steps != nil else { throw ValidationError("--steps is required for a new run") }
        }
        if let steps, steps < 1 { throw ValidationError("--steps must be positive") }
        if let channels, channels != 1 && channels != 3 { throw ValidationError("--channels must be 1 or 3") }
        if let resolution, resolution < 4 || resolution > 1024 { throw ValidationError("--resolution must be within 4...1024") }
        guard (1...65536).contains(batchSize) else { throw ValidationError("--batch-size must be within 1...65536") }
        guard warmupSteps >= 0 else { throw ValidationError("--warmup-steps must be 0 or more") }
        for (flag, value) in [("--adam-beta1", adamBeta1), ("--adam-beta2", adamBeta2), ("--ema-max-decay", Double(emaMaxDecay))]
            where !(value >= 0 && value < 1) {
            throw ValidationError("\(flag) must be in [0, 1), not \(value)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw ValidationError("--weight-decay must be 0 or more and finite") }
        if let minSnrGamma, !(minSnrGamma.isFinite && minSnrGamma > 0) {
            throw ValidationError("--min-snr-gamma must be positive and finite (5 is the paper's choice)")
        }
        guard learningRate > 0, learningRate < 1 else { throw ValidationError("--learning-rate must be in (0, 1)") }
        guard classDropout >= 0, classDropout < 1 else { throw ValidationError("--class-dropout must be in [0, 1)") }
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be positive") }
        if let sampleEvery, sampleEvery < 0 { throw ValidationError("--sample-every must be 0 or more") }
        if initFrom != nil {
            if resume { throw ValidationError("--init-from starts a new run; a resumed run keeps its own start") }
            if config != nil { throw ValidationError("--init-from and --config do not go together: the model brings its architecture") }
            if resolution != nil || channels != nil {
                throw ValidationError("--init-from takes the model's image size; --resolution and --channels do not go with it")
            }
        }
    }

    func run() throws {
        // Under mpirun, join the other processes (Open MPI is loaded only then), and share this
        // machine's cores among its processes unless DIFFUSE_THREADS says otherwise.
        let mpi = try MPIReducer.launchedSize.map { _ in try MPIReducer() }
        if let mpi, ProcessInfo.processInfo.environment["DIFFUSE_THREADS"] == nil {
            setenv("DIFFUSE_THREADS", String(max(1, ProcessInfo.processInfo.activeProcessorCount / mpi.localSize)), 1)
        }
        let reducer: GradientReducer = mpi ?? SingleProcess()
        let isMain = reducer.rank == 0
        func say(_ line: String) { if isMain { print(line) } }
        let folder = ModelFolder(URL(fileURLWithPath: out))
        if resume && privacy.isRequested { throw CommandError("--dp-*: a resumed run keeps its own privacy settings") }
        if resume && timestepBias.timestepBiasStrategy != nil {
            throw CommandError("--timestep-bias-*: a resumed run keeps its own timestep bias")
        }
        var (options, denoiser) = try resume ? resumedRun(folder) : newRun(folder)
        if mpi != nil && (privacy.isRequested || options.privacy != nil) {
            throw CommandError("differentially private training runs in one process (not under mpirun)")
        }
        let dataset = try ImageDataset.load(folder: URL(fileURLWithPath: options.data), resolution: options.resolution,
                                            channels: options.channels, skipBad: options.skipBad)
        for (path, reason) in dataset.skipped { say("warning: skipped \(path): \(reason)") }
        if !resume {
            options.privacy = try privacy.options(imageCount: dataset.count, batchSize: options.batchSize, steps: options.steps)
        }
        // One process writes a run folder; under mpirun, process 0 (the others only need it to exist).
        try makeFolder(folder.url)
        let lock = isMain ? try FolderLock(folder.url) : nil
        defer { withExtendedLifetime(lock) {} }
        if !resume && FileManager.default.fileExists(atPath: folder.trainingStateFile.path) {
            throw CommandError("\(out): a run was started there meanwhile; continue it with --resume or choose a new --out")
        }
        let nullRows = (options.classDropout ?? 0) > 0 ? 1 : 0
        if let classes = denoiser.classCount, classes != dataset.classNames.count + nullRows {
            throw CommandError("\(options.data): \(dataset.classNames.count) class folders, but the model has \(classes - nullRows) classes")
        }
        let trainer = try Trainer(denoiser: denoiser, dataset: dataset, options: options)
        if let spent = trainer.privacySpent {
            let planned = RDPAccountant(noiseMultiplier: spent.noiseMultiplier, sampleRate: spent.sampleRate)
                .epsilon(steps: options.steps, delta: spent.delta).epsilon
            say(String(format: "Differential privacy (DP-SGD): clip norm %g, noise multiplier %.4f, sample rate %.6f (Poisson), "
                       + "delta %g: epsilon %.3f after %d steps (RDP accountant)", spent.maxGradNorm, spent.noiseMultiplier,
                       spent.sampleRate, spent.delta, planned, options.steps))
        }
        let classNames = denoiser.classCount == nil ? [] : dataset.classNames
        let run = try TrainingRun(trainer: trainer, folder: folder, classNames: classNames, resume: resume, reducer: reducer)
        if resume {
            say("Resuming \(out) at step \(trainer.step) of \(options.steps)")
            guard !run.isFinished else {
                say("Nothing to do: the run has already taken \(trainer.step) steps (give a larger --steps to go on)")
                return
            }
        }
        let parameterCount = denoiser.parameters.reduce(0) { $0 + $1.value.count }
        say((reducer.size > 1 ? "\(reducer.size) processes: " : "") + "Training \(parameterCount.formatted()) parameters on \(dataset.count) images (\(options.channels)x\(options.resolution)x\(options.resolution)\(classNames.isEmpty ? "" : ", \(classNames.count) classes")), batch \(options.batchSize), \(options.steps) steps")

        let interruption = Interruption()
        let progress = Progress(total: options.steps, unit: "img", done: trainer.step)
        let outcome = try run.run(stopRequested: { interruption.received }) { event in
            guard isMain else { return }
            switch event {
            case let .stepped(step, _, smoothedLoss):
                progress.update(step, String(format: "loss %.4f", smoothedLoss), unitsPerItem: Double(options.batchSize))
            case let .samples(step, grid):
                progress.note("Samples at step \(step): \(grid.path)")
            }
        }
        if isMain { progress.finish() }
        switch outcome {
        case .stopped(let signal):
            say("Stopped by signal \(signal) at step \(trainer.step); checkpoint saved. Continue with: diffuse train --out \(out) --resume")
        case .finished:
            if let mpi, mpi.sums > 0 {
                say(String(format: "All-reduce: %.1f ms and %.2f MB a step on average (%d steps, %d processes, %@ threads each)",
                           1000 * mpi.secondsSumming / Double(mpi.sums), Double(mpi.bytesSummed) / Double(mpi.sums) / 1e6,
                           mpi.sums, mpi.size, ProcessInfo.processInfo.environment["DIFFUSE_THREADS"] ?? "?"))
            }
            say("Done: \(options.steps) steps, final loss \(String(format: "%.4f", run.log.smoothedLoss)). Model: \(out) (loss curve: \(out)/loss.svg)")
            if let spent = trainer.privacySpent {
                say(String(format: "Privacy spent: epsilon %.3f at delta %g (%@/privacy.json)", spent.epsilon, spent.delta, out))
            }
        }
    }

    /// The options of a new run from the flags; refuses a folder that already holds a run.
    private func newRun(_ folder: ModelFolder) throws -> (TrainingOptions, any Denoiser) {
        if FileManager.default.fileExists(atPath: folder.trainingStateFile.path) {
            throw CommandError("\(out): already holds a training run; continue it with --resume or choose a new --out")
        }
        let dataPath = data!
        let listing = try ImageFolder.scan(URL(fileURLWithPath: dataPath))
        if let initFrom { return try fineTuningRun(from: initFrom, data: dataPath, classNames: listing.classNames) }
        var unetConfig: UNetConfig
        if let config {
            do {
                unetConfig = try UNetConfig(json: try readSmallFile(URL(fileURLWithPath: config)))
            } catch let error as ConfigError {
                throw CommandError("\(config): \(error)")
            } catch {
                throw CommandError("\(config): cannot be read (\(error.localizedDescription))")
            }
            if let resolution { unetConfig.sampleSize = resolution }
            if let channels { (unetConfig.inChannels, unetConfig.outChannels) = (channels, channels) }
        } else {
            // A guidance model has one more class row: "no class".
            let classes = unconditional || listing.classNames.isEmpty ? nil : listing.classNames.count + (classDropout > 0 ? 1 : 0)
            unetConfig = preset.config(resolution: resolution ?? 32, channels: channels ?? 3, classes: classes)
        }
        let divisor = 1 << unetConfig.downsamplings
        guard unetConfig.sampleSize % divisor == 0 else {
            throw CommandError("resolution \(unetConfig.sampleSize) must be divisible by \(divisor) for a U-Net with \(unetConfig.blockOutChannels.count) levels")
        }
        var options = TrainingOptions(data: dataPath, resolution: unetConfig.sampleSize, channels: unetConfig.inChannels, steps: steps!)
        options.predictionType = (predictionType ?? .epsilon).rawValue
        options.betaSchedule = (betaSchedule ?? .linear).rawValue
        let conditional = !unconditional && !listing.classNames.isEmpty && config == nil
        options.classDropout = conditional && classDropout > 0 ? classDropout : nil
        try setCommonOptions(&options)
        return (options, try UNet2DModel(config: unetConfig, seed: options.seed))
    }

    /// A new run that fine-tunes the model folder `path`: its denoiser (with a "no class" row
    /// added for class dropout), its schedule and prediction type; flags that contradict them
    /// are refused.
    private func fineTuningRun(from path: String, data: String, classNames: [String]) throws -> (TrainingOptions, any Denoiser) {
        let dataClasses = unconditional ? [] : classNames
        let start = try FineTuningStart(folder: ModelFolder(URL(fileURLWithPath: path)), classNames: dataClasses,
                                        nullClass: !dataClasses.isEmpty && classDropout > 0)
        let shape = start.denoiser.sampleShape
        var options = TrainingOptions(data: data, resolution: shape[1], channels: shape[0], steps: steps!)
        options.predictionType = start.scheduler.predictionType ?? PredictionType.epsilon.rawValue
        options.betaSchedule = start.scheduler.betaSchedule ?? NoiseSchedule.BetaSchedule.linear.rawValue
        options.trainTimesteps = start.scheduler.numTrainTimesteps ?? options.trainTimesteps
        for (flag, given, model) in [("--prediction-type", predictionType?.rawValue, options.predictionType),
                                     ("--beta-schedule", betaSchedule?.rawValue, options.betaSchedule)] {
            if let given, given != model { throw CommandError("\(flag) \(given): the model \(path) was trained with \(model)") }
        }
        options.classDropout = !dataClasses.isEmpty && classDropout > 0 ? classDropout : nil
        options.initFrom = path
        try setCommonOptions(&options)
        return (options, start.denoiser)
    }

    /// The options every new run takes from its flags alike.
    private func setCommonOptions(_ options: inout TrainingOptions) throws {
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.warmupSteps = warmupSteps
        options.adamBeta1 = adamBeta1
        options.adamBeta2 = adamBeta2
        options.weightDecay = weightDecay
        options.emaMaxDecay = emaMaxDecay
        options.minSNRGamma = minSnrGamma
        options.timestepBias = try timestepBias.bias(trainTimesteps: options.trainTimesteps)
        options.randomFlip = randomFlip
        options.seed = seed
        options.skipBad = skipBad
        options.checkpointEvery = checkpointEvery ?? TrainingRun.defaultCheckpointEvery
        options.sampleEvery = sampleEvery ?? 0
    }

    /// The saved run, with a new total of steps, data path or checkpoint and sample cadence when given.
    private func resumedRun(_ folder: ModelFolder) throws -> (TrainingOptions, any Denoiser) {
        var (options, denoiser) = try Trainer.savedRun(in: folder)
        if let steps { options.steps = steps }
        if let data { options.data = data }
        if let checkpointEvery { options.checkpointEvery = checkpointEvery }
        if let sampleEvery { options.sampleEvery = sampleEvery }
        return (options, denoiser)
    }
}
