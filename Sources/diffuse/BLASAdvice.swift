import Foundation
import NN

/// A command whose time goes into OpenBLAS (training, sampling, feature extraction): before it
/// runs, `diffuse` says when OpenBLAS runs outdated kernels on this CPU (`BLASKernels.advice`).
protocol RunsBLAS {}

extension Train: RunsBLAS {}
extension Sample: RunsBLAS {}
extension Compare: RunsBLAS {}
extension Evaluate: RunsBLAS {}
extension Audit: RunsBLAS {}
extension TrainOnSyntheticCommand: RunsBLAS {}
extension TrainEvaluator: RunsBLAS {}

extension Diffuse {
    /// ArgumentParser's main, with the OpenBLAS warning on standard error before a command that
    /// needs it.
    static func main() {
        do {
            var command = try parseAsRoot()
            if command is RunsBLAS, let advice = BLASKernels.advice {
                FileHandle.standardError.write(Data((advice + "\n").utf8))
            }
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
