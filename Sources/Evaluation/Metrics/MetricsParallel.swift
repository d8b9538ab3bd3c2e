import CBLAS
import Dispatch
import Foundation

/// Splits the metric loops over the cores. Workers claim blocks of work in order from a shared
/// counter, so a core slowed by other work simply claims fewer blocks. BLAS runs single-threaded
/// inside the workers: one BLAS thread a worker, no oversubscription.
enum MetricsParallel {
    static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Holds OpenBLAS to one thread (a global setting, as NN's sgemm wrapper does).
    static func useSingleThreadedBLAS() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }

    /// The number of workers for `blocks` blocks of work.
    static func workerCount(blocks: Int) -> Int { max(1, min(coreCount, blocks)) }

    /// Calls `body(worker, block)` once for every block in `0 ..< blocks`; `worker` is in
    /// `0 ..< workerCount(blocks:)` and one worker's calls never overlap, so it can own scratch
    /// memory and partial results.
    static func forEachBlock(_ blocks: Int, _ body: (_ worker: Int, _ block: Int) -> Void) {
        guard blocks > 0 else { return }
        useSingleThreadedBLAS()
        let workers = workerCount(blocks: blocks)
        if workers == 1 {
            for block in 0..<blocks { body(0, block) }
            return
        }
        let claims = BlockClaims(count: blocks)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while let block = claims.next() { body(worker, block) }
        }
    }
}

/// A shared counter handing out block numbers 0, 1, 2, ... once each.
private final class BlockClaims: @unchecked Sendable {
    private let lock = NSLock()
    private var nextBlock = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextBlock < count else { return nil }
        nextBlock += 1
        return nextBlock - 1
    }
}
