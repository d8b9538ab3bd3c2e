import ArgumentParser
import Evaluation
import Foundation
import Imaging
import NN

struct TrainOnSyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tstr",
        abstract: "Does a synthetic set help? Train a small classifier on real, synthetic and mixed images; test on real ones.",
        discussion: """
            The classifier is the evaluator network (train-evaluator's recipe: AdamW, warm-up and \
            cosine decay, random flips), trained once per seed on each of: the real training \
            images (TRTR), the synthetic images (TSTR), both (augmented), a small real subset \
            (--low-data), and that subset with the synthetic images; every one is tested on the \
            real test images. The real folders need the same class folders; the synthetic one may \
            hold some of those classes only (a set that tops up rare classes), and then TSTR is \
            not run. Reports accuracy (mean and std over seeds), TSTR/TRTR, each class's \
            accuracy and a confusion matrix. Ctrl-C stops before the next step and writes nothing.
            """
    )

    @Option(help: "The real training images (class folders).")
    var train: String
    @Option(help: "The synthetic images (class folders, as sample --per-class or --class-counts writes them).")
    var synthetic: String
    @Option(help: "The real test images (class folders).")
    var test: String
    @Option(help: "Seeds: one training of each setting per seed.")
    var seeds: Int = 3
    @Option(help: "Passes over each training set.")
    var epochs: Int = 3
    @Option(help: "The classifier's width (channels of its first stage).")
    var width: Int = 32
    @Option(help: "Images per step.")
    var batchSize: Int = 128
    @Option(help: "The fraction of the real training images in the low-data settings.")
    var lowData: Double = 0.1
    @Option(help: "Write the report as JSON here (keys trtr, tstr (absent without every class), augmented, low_data_real, low_data_augmented: mean, std, runs, per_class).")
    var json: String?
    @Option(help: "Write the report as Markdown here.")
    var markdown: String?
    @Option(help: "Write the report as a self-contained HTML page here.")
    var html: String?
    @Option(help: "Write the confusion matrix (first seed of TSTR, or of augmented without TSTR) as a PNG here.")
    var confusion: String?

    func validate() throws {
        guard seeds >= 1, epochs >= 1, batchSize >= 1 else { throw ValidationError("--seeds, --epochs and --batch-size must be positive") }
        guard width >= 8, width % 8 == 0 else { throw ValidationError("--width must be a positive multiple of 8") }
        guard lowData > 0, lowData <= 1 else { throw ValidationError("--low-data must be in (0, 1]") }
    }

    func run() throws {
        let listing = try ImageFolder.scan(URL(fileURLWithPath: test))
        guard let first = listing.files.first else { throw CommandError("\(test): no PNG images found") }
        let info = try PNG.info(of: first.url)
        let channels = info.colorType.hasPrefix("gray") ? 1 : 3
        func load(_ path: String) throws -> ImageDataset {
            let set = try ImageDataset.load(folder: URL(fileURLWithPath: path), resolution: info.width, channels: channels)
            guard set.labels != nil else { throw CommandError("\(path): needs class folders (one subfolder a class)") }
            return set
        }
        let (real, synthetic, testSet) = (try load(train), try load(synthetic), try load(test))
        var recipe = EvaluatorTraining()
        (recipe.epochs, recipe.width, recipe.batchSize) = (epochs, width, batchSize)
        print("Train on synthetic: \(real.count) real, \(synthetic.count) synthetic, \(testSet.count) test images, "
              + "\(real.classNames.count) classes (the synthetic set \(synthetic.classNames.count)), \(seeds) seeds x "
              + "\(synthetic.classNames.count == real.classNames.count ? 5 : 4) settings")
        let interruption = Interruption()
        var progress: Progress?, current = ""
        let report: TrainOnSynthetic.Report
        do {
            report = try TrainOnSynthetic.run(real: real, synthetic: synthetic, test: testSet, recipe: recipe,
                                              seeds: Array(0..<UInt64(seeds)), lowDataFraction: lowData,
                                              stopRequested: { interruption.received != nil }) { setting, seed, step, steps in
                let label = "\(setting), seed \(seed)"
                if label != current {
                    progress?.finish()
                    (progress, current) = (Progress(total: steps, unit: "img"), label)
                }
                progress?.update(step, label, unitsPerItem: Double(batchSize))
            }
        } catch is TrainingStopped {
            progress?.finish()
            throw CommandError("stopped by a signal during \(current); nothing written")
        }
        progress?.finish()
        print(report.markdown())
        if let confusion { try PNG.write(report.confusionImage(), to: URL(fileURLWithPath: confusion)) }
        if let json { try writeJSONReport(report, to: json) }
        if let markdown {
            let link = confusion.map { markdownLink(to: $0, fromDocumentAt: markdown) }
            try writeAtomically(Array(report.markdown(confusionImage: link).utf8), to: URL(fileURLWithPath: markdown))
        }
        if let html { try writeAtomically(Array(try report.html().utf8), to: URL(fileURLWithPath: html)) }
    }
}
