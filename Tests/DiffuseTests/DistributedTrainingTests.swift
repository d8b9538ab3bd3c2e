import Foundation
import Diffusion
import Distributed
import Imaging
import NN
import XCTest
@testable import diffuse

/// `mpirun -np 2 diffuse train` on one machine: Open MPI must be installed (the README's first
/// command and .ci/run install it); the tests fail, never skip, without it.
final class DistributedTrainingTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws { root = try temporaryFolder(for: self) }

    /// The `diffuse` executable `swift test` built beside this test bundle.
    private var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("diffuse")
    }

    /// Where launched runs print.
    private var outputFile: URL { root.appendingPathComponent("mpirun-output.txt") }

    /// `mpirun -np 2 diffuse ARGUMENTS`, started; `wait` for it or signal it.
    private func launch(_ arguments: [String]) throws -> Process {
        XCTAssertTrue(FileManager.default.fileExists(atPath: executable.path), "no diffuse executable at \(executable.path)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // mpirun kills what a signal has not ended in odls_base_sigkill_timeout seconds (1 by
        // default): too short for a checkpoint on a busy machine.
        process.arguments = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--mca", "odls_base_sigkill_timeout", "10",
                             "-np", "2", executable.path] + arguments
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func trainArguments(data: URL, out: URL, steps: Int) -> [String] {
        ["train", "--data", data.path, "--out", out.path, "--resolution", "8", "--channels", "1", "--steps", String(steps),
         "--batch-size", "4", "--learning-rate", "1e-3", "--warmup-steps", "2", "--seed", "3"]
    }

    /// A trainer of the run whose options `folder` saved (fresh weights, as the run started),
    /// after `sliced` steps taken as two slices summed: what two MPI processes compute.
    private func replay(_ folder: URL, sliced: Int) throws -> Trainer {
        let (options, denoiser) = try Trainer.savedRun(in: ModelFolder(folder))
        let dataset = try ImageDataset.load(folder: URL(fileURLWithPath: options.data), resolution: options.resolution,
                                            channels: options.channels)
        let trainer = try Trainer(denoiser: denoiser, dataset: dataset, options: options)
        for _ in 0..<sliced { try trainer.trainStep(asSlices: 2) }
        return trainer
    }

    /// The EMA weights the run in `folder` saved equal `trainer`'s, bit for bit.
    private func assertSaved(_ folder: URL, equal trainer: Trainer, file: StaticString = #filePath, line: UInt = #line) throws {
        let saved = try SafeTensors.read(from: folder.appendingPathComponent("unet/diffusion_pytorch_model.safetensors")).tensors
        XCTAssertEqual(saved.mapValues(\.scalars), trainer.emaWeights.mapValues(\.scalars), file: file, line: line)
    }

    private func losses(_ run: URL) throws -> [Double] {
        try String(contentsOf: run.appendingPathComponent("loss.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { Double($0.split(separator: ",")[1])! }
    }

    /// Two processes give, bit for bit, what one process gives summing the same two slices;
    /// within rounding of a run on whole batches (each loss within 1e-5).
    func testTwoProcessesTrainAsOne() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 12)
        let one = root.appendingPathComponent("one"), two = root.appendingPathComponent("two")
        let mpi = try launch(trainArguments(data: data, out: two, steps: 5))
        mpi.waitUntilExit()
        XCTAssertEqual(mpi.terminationStatus, 0)
        try assertSaved(two, equal: try replay(two, sliced: 5))

        var single = try Diffuse.parseAsRoot(trainArguments(data: data, out: one, steps: 5))
        try single.run()
        let (a, b) = (try losses(one), try losses(two))
        XCTAssertEqual(a.count, 5)
        XCTAssertEqual(b.count, 5)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5 * abs(x)) }
    }

    /// Two processes stopped by SIGTERM (mpirun passes it to both) save one checkpoint; the run
    /// resumed by one process continues it exactly.
    func testStoppedTwoProcessRunResumesWithOneProcess() throws {
        let data = try writeRandomImages(under: root, name: "data", count: 12)
        let run = root.appendingPathComponent("run")
        let mpi = try launch(trainArguments(data: data, out: run, steps: 100_000) + ["--checkpoint-every", "100000"])
        // Past start-up (a signal before the run loop ends the processes with no checkpoint, as
        // it should), then a few steps: on a busy machine start-up alone can take seconds.
        let deadline = Date().addingTimeInterval(120)
        // (readFileBytes, not String(contentsOf:): Foundation leaks a buffer per empty file read.)
        while !((try? String(decoding: readFileBytes(outputFile), as: UTF8.self))?.contains("Training ") ?? false) && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        Thread.sleep(forTimeInterval: 3)
        mpi.terminate()
        mpi.waitUntilExit()
        let state = try SafeTensors.read(from: run.appendingPathComponent("training_state/state.safetensors"))
        let stoppedAt = try XCTUnwrap(state.metadata["step"].flatMap(Int.init))
        XCTAssertGreaterThan(stoppedAt, 0)
        XCTAssertEqual(try losses(run).count, stoppedAt, "one loss row a step, up to the checkpoint")
        let stopped = try replay(run, sliced: stoppedAt)
        try assertSaved(run, equal: stopped)

        // Resumed by one process with a new total: the same as restoring the replayed state
        // under the new options and taking whole-batch steps.
        var resumed = try Diffuse.parseAsRoot(["train", "--out", run.path, "--resume", "--steps", String(stoppedAt + 2)])
        try resumed.run()
        let replayFolder = ModelFolder(root.appendingPathComponent("replay"))
        try stopped.saveCheckpoint(to: replayFolder, classNames: [])
        let (options, denoiser) = try Trainer.savedRun(in: ModelFolder(run))
        let continued = try Trainer(denoiser: denoiser, dataset: stopped.dataset, options: options)
        try continued.restore(from: replayFolder)
        for _ in 0..<2 { try continued.trainStep() }
        try assertSaved(run, equal: continued)
    }

    func testMissingMPILibraryIsAOneLineError() {
        XCTAssertThrowsError(try MPIReducer(libraries: ["libmpi-that-is-not-there.so"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("started under mpirun, but Open MPI's library cannot be loaded ("), text)
            XCTAssertTrue(text.hasSuffix("install openmpi-bin and libopenmpi-dev"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
    }
}
