import Diffusion
import Foundation
import NN
import XCTest
@testable import diffuse

/// `diffuse train` end to end on a tiny config and random images.
final class TrainCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try temporaryFolder(for: self)
    }

    private func run(_ arguments: [String]) throws {
        var command = try Diffuse.parseAsRoot(["train"] + arguments)
        try command.run()
    }

    /// The cadence is kept in the run's saved options, so a resumed run goes on with it (the
    /// sample grids themselves, 800 model calls each, would make this test slow in a debug build).
    func testResumedRunKeepsItsCadenceUnlessTold() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 4)
        let config = root.appendingPathComponent("unet.json")
        try tinyUNetConfig().jsonData().write(to: config)
        let out = root.appendingPathComponent("run")
        let saved = { try Trainer.savedRun(in: ModelFolder(out)).options }

        try run(["--data", data.path, "--out", out.path, "--config", config.path, "--steps", "1", "--batch-size", "2",
                 "--sample-every", "5", "--checkpoint-every", "7"])
        XCTAssertEqual(try saved().sampleEvery, 5)
        XCTAssertEqual(try saved().checkpointEvery, 7)
        try run(["--out", out.path, "--resume", "--steps", "2"])
        XCTAssertEqual(try saved().sampleEvery, 5, "the resumed run forgot --sample-every")
        XCTAssertEqual(try saved().checkpointEvery, 7, "the resumed run forgot --checkpoint-every")
        try run(["--out", out.path, "--resume", "--steps", "3", "--sample-every", "0"])
        XCTAssertEqual(try saved().sampleEvery, 0, "--sample-every given on resume was not used")
    }

    /// --timestep-bias-* is recorded in the run's options (a resumed run keeps it and refuses
    /// new ones); incomplete or impossible biases are refused before anything is written.
    func testTimestepBiasIsRecordedAndChecked() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 4)
        let out = root.appendingPathComponent("run")
        let common = ["--data", data.path, "--resolution", "8", "--channels", "1", "--steps", "1", "--batch-size", "2"]
        for bad in [["--timestep-bias-strategy", "earlier"], ["--timestep-bias-multiplier", "3"],
                    ["--timestep-bias-strategy", "earlier", "--timestep-bias-multiplier", "1"],
                    ["--timestep-bias-strategy", "sooner", "--timestep-bias-multiplier", "3"]] {
            XCTAssertThrowsError(try Diffuse.parseAsRoot(["train", "--out", out.path] + common + bad), "\(bad)")
        }
        XCTAssertThrowsError(try run(common + ["--out", out.path, "--timestep-bias-strategy", "range",
                                               "--timestep-bias-multiplier", "3", "--timestep-bias-end", "1001"])) { error in
            XCTAssertTrue("\(error)".contains("range 0..<1001"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "a refused run wrote its folder")

        try run(common + ["--out", out.path, "--timestep-bias-strategy", "earlier", "--timestep-bias-multiplier", "5",
                          "--timestep-bias-portion", "0.1"])
        let saved = try Trainer.savedRun(in: ModelFolder(out)).options
        XCTAssertEqual(saved.timestepBias, TimestepBias(strategy: .earlier, multiplier: 5, portion: 0.1))
        XCTAssertThrowsError(try run(["--out", out.path, "--resume", "--steps", "2", "--timestep-bias-strategy", "later",
                                      "--timestep-bias-multiplier", "2"]))
        try run(["--out", out.path, "--resume", "--steps", "2"])
        XCTAssertEqual(try Trainer.savedRun(in: ModelFolder(out)).options.timestepBias, saved.timestepBias)
    }

    /// Class folders train a guidance model by default (a "no class" row after the classes,
    /// marked in class_names.json); --class-dropout 0 trains a plain conditional one.
    func testClassFoldersTrainAGuidanceModel() throws {
        let data = root.appendingPathComponent("classes")
        for name in ["bag", "coat"] {
            let folder = try writeRandomImages(under: data, name: name, count: 2)
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path))
        }
        let guided = root.appendingPathComponent("guided"), plain = root.appendingPathComponent("plain")
        let common = ["--data", data.path, "--resolution", "8", "--channels", "1", "--steps", "1", "--batch-size", "2"]
        try run(common + ["--out", guided.path])
        try run(common + ["--out", plain.path, "--class-dropout", "0"])
        let (guidedModel, _, guidedNames) = try ModelFolder(guided).load()
        XCTAssertEqual(guidedModel.classCount, 3)
        XCTAssertEqual(guidedNames, ["bag", "coat"])
        XCTAssertEqual(guidedModel.classes(named: guidedNames)?.nullLabel, 2)
        XCTAssertEqual(try Trainer.savedRun(in: ModelFolder(guided)).options.classDropout, 0.1)
        XCTAssertEqual(try ModelFolder(guided).load().scheduler.clipSample, true, "an epsilon model is saved with clipping")
        let (plainModel, _, plainNames) = try ModelFolder(plain).load()
        XCTAssertEqual(plainModel.classCount, 2)
        XCTAssertNil(plainModel.classes(named: plainNames)?.nullLabel)
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["train"] + common + ["--out", plain.path, "--class-dropout", "1"]))
    }

    /// --init-from starts from a model's weights, schedule and prediction type; a model without
    /// a "no class" row gets one (the mean of its class rows) for class dropout, every other
    /// weight unchanged; mismatched classes and contradicting flags are refused.
    func testFineTuningStartsFromAModel() throws {
        let data = root.appendingPathComponent("classes")
        for name in ["bag", "coat"] { _ = try writeRandomImages(under: data, name: name, count: 2) }
        let base = root.appendingPathComponent("base"), tuned = root.appendingPathComponent("tuned")
        try run(["--data", data.path, "--out", base.path, "--resolution", "8", "--channels", "1", "--steps", "1",
                 "--batch-size", "2", "--class-dropout", "0", "--prediction-type", "v_prediction",
                 "--beta-schedule", "squaredcos_cap_v2"])
        let (baseModel, _, _) = try ModelFolder(base).load()
        XCTAssertEqual(baseModel.classCount, 2)

        // The start itself, before any step: the extra row and the kept weights.
        let start = try FineTuningStart(folder: ModelFolder(base), classNames: ["bag", "coat"], nullClass: true)
        XCTAssertTrue(start.addedNullClass)
        XCTAssertEqual(start.denoiser.classCount, 3)
        let before = Dictionary(uniqueKeysWithValues: baseModel.namedParameters.map { ($0.name, $0.parameter.value) })
        for (name, parameter) in start.denoiser.namedParameters {
            let old = try XCTUnwrap(before[name], name)
            guard name == "class_embedding.weight" else { XCTAssertEqual(parameter.value.scalars, old.scalars, name); continue }
            let width = old.shape[1]
            XCTAssertEqual(parameter.value.shape, [3, width])
            XCTAssertEqual(Array(parameter.value.scalars[0..<(2 * width)]), old.scalars)
            for j in 0..<width {
                XCTAssertEqual(parameter.value.scalars[2 * width + j], (old.scalars[j] + old.scalars[width + j]) / 2, accuracy: 1e-6)
            }
        }

        try run(["--data", data.path, "--out", tuned.path, "--init-from", base.path, "--steps", "1", "--batch-size", "2",
                 "--min-snr-gamma", "5"])
        let options = try Trainer.savedRun(in: ModelFolder(tuned)).options
        XCTAssertEqual(options.initFrom, base.path)
        XCTAssertEqual(options.predictionType, "v_prediction")
        XCTAssertEqual(options.betaSchedule, "squaredcos_cap_v2")
        XCTAssertEqual(options.classDropout, 0.1)
        let (tunedModel, scheduler, names) = try ModelFolder(tuned).load()
        XCTAssertEqual(tunedModel.classes(named: names)?.nullLabel, 2)
        XCTAssertEqual(scheduler.predictionType, "v_prediction")
        XCTAssertEqual(scheduler.clipSample, false, "a v-prediction model is saved without clipping")
        XCTAssertEqual(try ModelFolder(base).load().scheduler.clipSample, false)

        let other = root.appendingPathComponent("other")
        _ = try writeRandomImages(under: other, name: "dress", count: 2)
        for (arguments, message) in [
            (["--data", other.path, "--init-from", base.path], "are not the data's"),
            (["--data", data.path, "--init-from", base.path, "--prediction-type", "epsilon"], "was trained with v_prediction"),
            (["--data", data.path, "--init-from", root.appendingPathComponent("none").path], "no such model folder"),
        ] {
            let out = root.appendingPathComponent("refused")
            XCTAssertThrowsError(try run(arguments + ["--out", out.path, "--steps", "1"])) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("training_state/state.safetensors").path))
        }
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["train", "--data", data.path, "--out", tuned.path, "--init-from", base.path,
                                                      "--steps", "1", "--resolution", "8"]))
    }

    /// --dp-epsilon picks the noise for the run's steps; privacy.json records what was spent;
    /// a resumed run keeps its privacy settings; bad privacy flags are refused with nothing written.
    func testDifferentiallyPrivateRunRecordsItsPrivacy() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 8)
        let config = root.appendingPathComponent("unet.json")
        try tinyUNetConfig().jsonData().write(to: config)
        let out = root.appendingPathComponent("private")
        let common = ["--data", data.path, "--config", config.path, "--batch-size", "2"]
        try run(common + ["--out", out.path, "--steps", "2", "--dp-max-grad-norm", "1", "--dp-delta", "0.01", "--dp-epsilon", "8"])
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("privacy.json"))) as? [String: Any]
        let epsilon = try XCTUnwrap(record?["epsilon"] as? Double), sigma = try XCTUnwrap(record?["noise_multiplier"] as? Double)
        XCTAssertEqual(record?["sample_rate"] as? Double, 0.25)
        XCTAssertEqual(record?["steps"] as? Int, 2)
        XCTAssertEqual(record?["delta"] as? Double, 0.01)
        XCTAssertEqual(record?["accountant"] as? String, "rdp")
        XCTAssertLessThanOrEqual(epsilon, 8)
        XCTAssertGreaterThan(epsilon, 8 - 1e-3, "the noise is the least that stays within the target")
        XCTAssertEqual(epsilon, RDPAccountant(noiseMultiplier: sigma, sampleRate: 0.25).epsilon(steps: 2, delta: 0.01).epsilon)

        try run(["--out", out.path, "--resume", "--steps", "3"])
        let resumed = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("privacy.json"))) as? [String: Any]
        XCTAssertEqual(resumed?["steps"] as? Int, 3)
        XCTAssertGreaterThan(try XCTUnwrap(resumed?["epsilon"] as? Double), epsilon, "a step past the plan spends more")
        XCTAssertThrowsError(try run(["--out", out.path, "--resume", "--steps", "4", "--dp-delta", "0.001"]))

        let refused = root.appendingPathComponent("refused")
        XCTAssertThrowsError(try run(common + ["--out", refused.path, "--steps", "2", "--dp-max-grad-norm", "1", "--dp-delta", "0.2",
                                               "--dp-noise-multiplier", "1"])) { error in
            XCTAssertTrue("\(error)".contains("--dp-delta 0.2 must be below 1 / 8"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused.path), "nothing written")
        for bad in [["--dp-max-grad-norm", "1", "--dp-delta", "0.01"], ["--dp-max-grad-norm", "0", "--dp-delta", "0.01", "--dp-epsilon", "1"],
                    ["--dp-max-grad-norm", "1", "--dp-delta", "nan", "--dp-epsilon", "1"],
                    ["--dp-max-grad-norm", "1", "--dp-delta", "0.01", "--dp-epsilon", "inf"],
                    ["--dp-max-grad-norm", "1", "--dp-delta", "0.01", "--dp-epsilon", "1", "--dp-noise-multiplier", "1"]] {
            XCTAssertThrowsError(try Diffuse.parseAsRoot(["train"] + common + ["--out", refused.path, "--steps", "2"] + bad), "\(bad)")
        }
    }

    /// Hyper-parameters outside their ranges are refused before any work; a training state whose
    /// saved step or options were edited into nonsense is refused on resume, naming the file.
    func testHostileSettingsAreRefused() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 4)
        let out = root.appendingPathComponent("run")
        let common = ["train", "--data", data.path, "--out", out.path, "--resolution", "8", "--channels", "1", "--steps", "1"]
        for bad in [["--adam-beta1", "2"], ["--adam-beta2", "1"], ["--ema-max-decay", "2"], ["--min-snr-gamma", "0"],
                    ["--min-snr-gamma", "nan"], ["--batch-size", "1000000000"], ["--learning-rate", "nan"], ["--weight-decay", "-1"]] {
            XCTAssertThrowsError(try Diffuse.parseAsRoot(common + bad), "\(bad)")
        }
        try run(Array(common.dropFirst()) + ["--batch-size", "2"])
        let stateFile = out.appendingPathComponent("training_state/state.safetensors")
        let saved = try SafeTensors.read(from: stateFile)
        for (key, edit) in [("step", { (_: String) in "-5" }), ("options", { (json: String) in
            json.replacingOccurrences(of: "\"batchSize\":2", with: "\"batchSize\":0") })] {
            var metadata = saved.metadata
            metadata[key] = edit(metadata[key]!)
            XCTAssertNotEqual(metadata[key], saved.metadata[key], "the edit of \(key) missed")
            try SafeTensors.write(saved.tensors, metadata: metadata, to: stateFile)
            XCTAssertThrowsError(try run(["--out", out.path, "--resume", "--steps", "2"])) { error in
                XCTAssertTrue("\(error)".contains(stateFile.path), "\(key): \(error)")
            }
        }
    }

    /// A folder another process writes is refused (here the lock is held in this process,
    /// which flock treats alike); --out at a file gets one line; an empty training_state/ left by
    /// a failed first checkpoint does not count as a run.
    func testOutputFoldersAreLockedAndChecked() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 4)
        let common = ["--data", data.path, "--resolution", "8", "--channels", "1", "--steps", "1", "--batch-size", "2"]
        let busy = root.appendingPathComponent("busy")
        let lock = try FolderLock(busy)
        XCTAssertThrowsError(try run(common + ["--out", busy.path])) { XCTAssertTrue("\($0)".contains("in use by another diffuse process (process \(getpid())"), "\($0)") }
        var sample = try Diffuse.parseAsRoot(["sample", "--model", try saveTinyModel(under: root).path, "--out", busy.path, "--count", "1", "--steps", "1"])
        XCTAssertThrowsError(try sample.run()) { XCTAssertTrue("\($0)".contains("in use"), "\($0)") }
        withExtendedLifetime(lock) {}

        let file = root.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try run(common + ["--out", file.path])) { XCTAssertEqual("\($0)", "\(file.path): is a file, not a folder") }

        let leftover = root.appendingPathComponent("leftover")
        try FileManager.default.createDirectory(at: leftover.appendingPathComponent("training_state"), withIntermediateDirectories: true)
        try run(common + ["--out", leftover.path])
        XCTAssertTrue(FileManager.default.fileExists(atPath: leftover.appendingPathComponent("training_state/state.safetensors").path))
    }
}
