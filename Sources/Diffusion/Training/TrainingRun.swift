import Foundation
import NN

/// The loop of a training run: steps to the run's total; a checkpoint (training state, the
/// pipeline folder with the EMA weights, the loss log) every `checkpointEvery` steps and at the
/// end; a grid of EMA samples every `sampleEvery` steps; on a stop request, a checkpoint and a
/// clean stop that `--resume` continues exactly. The command line only parses flags, shows
/// progress and calls `run`.
///
/// Data-parallel (`reducer.size` processes, each running this loop on its slice of every
/// batch): all processes stop at the same step when any is asked to, and only process 0
/// writes checkpoints, the loss log and grids.
public final class TrainingRun {
    /// The cadence of checkpoints when the options give none.
    public static let defaultCheckpointEvery = 500

    /// What the loop reports as it goes.
    public enum Event {
        /// A step ended: its number (1-based), its loss, the running mean of the losses.
        case stepped(step: Int, loss: Float, smoothedLoss: Float)
        /// A sample grid was written.
        case samples(step: Int, grid: URL)
    }

    /// How `run` ended.
    public enum Outcome: Equatable {
        case finished
        /// Stopped by this signal after a checkpoint.
        case stopped(signal: Int32)
    }

    public let trainer: Trainer
    public let folder: ModelFolder
    /// The class names saved with the model (empty for an unconditional one).
    public let classNames: [String]
    public private(set) var log: LossLog
    public let reducer: GradientReducer
    let checkpointEvery: Int
    let sampleEvery: Int

    /// Whether this process writes the run's files.
    var writes: Bool { reducer.rank == 0 }

    /// A run of `trainer` writing to `folder`; with `resume`, the trainer continues from the
    /// folder's checkpoint and the loss log drops the rows written after it.
    public init(trainer: Trainer, folder: ModelFolder, classNames: [String], resume: Bool,
                reducer: GradientReducer = SingleProcess()) throws {
        (self.trainer, self.folder, self.classNames, self.reducer) = (trainer, folder, classNames, reducer)
        log = try LossLog(folder: folder.url, resume: resume)
        if resume {
            try trainer.restore(from: folder)
            log.truncate(after: trainer.step)
        }
        checkpointEvery = trainer.options.checkpointEvery ?? Self.defaultCheckpointEvery
        sampleEvery = trainer.options.sampleEvery ?? 0
    }

    /// Whether the run has steps left.
    public var isFinished: Bool { trainer.step >= trainer.options.steps }

    /// Trains to the run's total steps. `stopRequested` is asked before each step (a signal
    /// number stops the run after a checkpoint); `onEvent` hears each step and sample grid.
    public func run(stopRequested: () -> Int32? = { nil }, onEvent: (Event) -> Void = { _ in }) throws -> Outcome {
        let options = trainer.options
        while trainer.step < options.steps {
            let signal = try reducer.maximum(stopRequested() ?? 0)
            if signal != 0 {
                try checkpoint()
                return .stopped(signal: signal)
            }
            let started = Date()
            let loss = try trainer.trainStep(reducer: reducer)
            let imagesPerSecond = Double(options.batchSize) / Date().timeIntervalSince(started)
            log.append(step: trainer.step, loss: loss, learningRate: options.learningRate(atStep: trainer.step - 1),
                       imagesPerSecond: imagesPerSecond)
            onEvent(.stepped(step: trainer.step, loss: loss, smoothedLoss: log.smoothedLoss))
            if trainer.step % checkpointEvery == 0 || trainer.step == options.steps { try checkpoint() }
            if writes && sampleEvery > 0 && trainer.step % sampleEvery == 0 {
                let grid = try TrainingSamples.write(trainer: trainer, folder: folder.url, classes: classNames.count)
                onEvent(.samples(step: trainer.step, grid: grid))
            }
        }
        return .finished
    }

    /// Saves the training state, the pipeline folder and the loss log (process 0 only).
    public func checkpoint() throws {
        guard writes else { return }
        try trainer.saveCheckpoint(to: folder, classNames: classNames)
        try log.write()
    }
}
