import ArgumentParser
import Diffusion
import Evaluation
import Foundation
import Imaging
import NN

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Membership inference: how well can the model tell its training images from unseen ones?",
        discussion: """
            For every member (a training image) and non-member (a held-out image of the same \
            distribution, e.g. the test split), the model denoises the image at fixed timesteps \
            with fixed, seeded noise. Two attacks threshold the errors: the training loss \
            (loss-threshold attack) and SecMI's t-error (deterministic DDIM inversion to t, one \
            step on and back). Reports each attack's ROC AUC and true-positive rate at 1% and \
            0.1% false positives, per timestep and best, and the ROC curve. An AUC near 0.5 means \
            these attacks cannot tell members apart; near 1, the model gives its training set away.
            """
    )

    @Option(help: "The model folder (diffusers pipeline layout).")
    var model: String
    @Option(help: "Images the model was trained on (class folders for a class-conditional model).")
    var members: String
    @Option(help: "Images of the same distribution it was not trained on, as many as members.")
    var nonMembers: String
    @Option(help: "Audit a seeded random N of each folder (folders of different sizes need it).")
    var count: Int?
    @Option(help: "Comma-separated timesteps of both attacks.")
    var timesteps: String = "10,50,100,200"
    @Option(help: "SecMI's step between deterministic DDIM timesteps.")
    var interval: Int = 10
    @Option(help: "Seed of the noise and of --count's choice.")
    var seed: UInt64 = 0
    @Option(help: "Images per model call.")
    var batchSize: Int = 100
    @Option(help: "Write the report as JSON here (the best attack's auc at top level).")
    var json: String?
    @Option(help: "Write the report as Markdown here.")
    var markdown: String?
    @Option(help: "Write the ROC curves (log-log SVG) here.")
    var roc: String?

    var timestepList: [Int] {
        get throws {
            let entries = timesteps.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = entries.compactMap { Int($0) }
            guard !entries.isEmpty, values.count == entries.count, values.allSatisfy({ $0 >= 0 }) else {
                throw ValidationError("--timesteps: '\(timesteps)' is not a comma-separated list of timesteps (0 or more)")
            }
            return values
        }
    }

    func validate() throws {
        _ = try timestepList
        guard interval >= 1, batchSize >= 1 else { throw ValidationError("--interval and --batch-size must be positive") }
        if let count, count < 2 { throw ValidationError("--count must be at least 2") }
    }

    func run() throws {
        let (denoiser, config, classNames) = try ModelFolder(URL(fileURLWithPath: model)).load()
        let probe: MembershipProbe
        do {
            probe = try MembershipProbe(denoiser: denoiser, schedule: config.noiseSchedule(), prediction: config.prediction(),
                                        timesteps: try timestepList, interval: interval, seed: seed)
        } catch let error as SchedulerError {
            throw CommandError("--timesteps: \(error)")
        }
        let (memberSet, nonMemberSet) = try loadFolders(denoiser: denoiser)
        let classes = denoiser.classes(named: classNames)
        for set in [memberSet, nonMemberSet] where classes != nil {
            if set.labels != nil && set.classNames != classNames {
                throw CommandError("\(set.root.path): its classes \(set.classNames) differ from the model's \(classNames)")
            }
            if set.labels == nil && classes?.nullLabel == nil {
                throw CommandError("\(set.root.path): \(model) is class-conditional without a \"no class\" row; the images need class folders")
            }
        }
        let total = (memberSet.count + nonMemberSet.count) * probe.evaluationsPerImage
        print("Auditing \(model): \(memberSet.count) members, \(nonMemberSet.count) non-members, "
              + "timesteps \(probe.timesteps.map(String.init).joined(separator: ",")), \(probe.evaluationsPerImage) model evaluations an image")
        let progress = Progress(total: total, unit: "img")
        var done = 0
        func errors(of set: ImageDataset, name: String) -> [MembershipProbe.Statistic: [Double]] {
            var all: [MembershipProbe.Statistic: [Double]] = [:]
            for first in stride(from: 0, to: set.count, by: batchSize) {
                let indices = Array(first..<min(first + batchSize, set.count))
                let labels = set.labels.map { labels in indices.map { labels[$0] } }
                    ?? classes?.nullLabel.map { [Int](repeating: $0, count: indices.count) }
                let batch = probe.errors(of: set.batch(indices), labels: labels, first: first) {
                    done += indices.count
                    progress.update(done, name)
                }
                for (statistic, values) in batch { all[statistic, default: []] += values }
            }
            return all
        }
        let memberErrors = errors(of: memberSet, name: "members"), nonMemberErrors = errors(of: nonMemberSet, name: "non-members")
        progress.finish()
        let statistics = memberErrors.keys.sorted().map { s in
            MembershipAudit.Errors(attack: s.attack.rawValue, timestep: s.timestep, members: memberErrors[s]!, nonMembers: nonMemberErrors[s]!)
        }
        let report = MembershipAudit(model: model, members: members, nonMembers: nonMembers, seed: seed, interval: interval,
                                     errors: statistics)
        print(report.markdown())
        if let json { try writeJSONReport(report, to: json) }
        if let markdown {
            let link = roc.map { markdownLink(to: $0, fromDocumentAt: markdown) }
            try writeAtomically(Array(report.markdown(rocImage: link).utf8), to: URL(fileURLWithPath: markdown))
        }
        if let roc { try writeAtomically(Array(report.rocChart().svg().utf8), to: URL(fileURLWithPath: roc)) }
    }

    /// Both folders at the model's size, the same number of images from each (--count's
    /// seeded choice, or all when they are equal); folders whose source images differ in size
    /// are refused, since resizing alone would tell them apart.
    private func loadFolders(denoiser: any Denoiser) throws -> (ImageDataset, ImageDataset) {
        let (channels, resolution) = (denoiser.sampleShape[0], denoiser.sampleShape[2])
        let memberSet = try ImageDataset.load(folder: URL(fileURLWithPath: members), resolution: resolution, channels: channels)
        let nonMemberSet = try ImageDataset.load(folder: URL(fileURLWithPath: nonMembers), resolution: resolution, channels: channels)
        guard Set(memberSet.sourceSizes.keys) == Set(nonMemberSet.sourceSizes.keys) else {
            throw CommandError("\(nonMembers): its images are \(nonMemberSet.sourceSizes.keys.sorted().joined(separator: ", ")), "
                               + "the members' \(memberSet.sourceSizes.keys.sorted().joined(separator: ", ")): an audit needs images of one size")
        }
        guard let count else {
            guard memberSet.count == nonMemberSet.count else {
                throw CommandError("\(nonMembers): \(nonMemberSet.count) images against \(memberSet.count) members; "
                                   + "an audit needs as many of each (--count N audits N of each)")
            }
            return (memberSet, nonMemberSet)
        }
        for set in [memberSet, nonMemberSet] where set.count < count {
            throw CommandError("\(set.root.path): \(set.count) images, fewer than --count \(count)")
        }
        return (memberSet.subset(Array(seededPermutation(memberSet.count, seed: seed).prefix(count))),
                nonMemberSet.subset(Array(seededPermutation(nonMemberSet.count, seed: seed &+ 1).prefix(count))))
    }
}
