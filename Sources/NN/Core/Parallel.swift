import CBLAS
import Dispatch
import Foundation

// The one set of parallel loops of the package: NN's kernels, Imaging's file decoding and
// Evaluation's metrics all split work over the cores with these.

/// Cores used by the loops Diffuse runs itself: `DIFFUSE_THREADS` when set (several processes
/// on one machine share its cores: `diffuse train` under mpirun sets it to the cores per
/// process), else every core. BLAS runs single-threaded inside them (see Gemm.swift):
/// splitting work into independent pieces, one per core, keeps the cores busy between BLAS
/// calls as well as inside them. Read once, at first use.
public let coreCount = max(1, ProcessInfo.processInfo.environment["DIFFUSE_THREADS"].flatMap(Int.init)
                              ?? ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body(range)` over `0..<count` split into contiguous chunks on all cores; small jobs
/// (fewer than `grain` items per core) run inline, where thread hand-off would cost more.
@inline(__always)
public func parallelChunks(_ count: Int, grain: Int = 16_384, _ body: (Range<Int>) -> Void) {
    parallelWorkers(count, grain: grain) { _, range in body(range) }
}

/// As `parallelChunks`, also passing the worker's index (0 ..< workerCount(count, grain)), so
/// that each worker can own scratch memory or partial sums.
@inline(__always)
public func parallelWorkers(_ count: Int, grain: Int = 1, _ body: (_ worker: Int, Range<Int>) -> Void) {
    let workers = workerCount(count, grain: grain)
    if workers <= 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        body(w, count * w / workers ..< count * (w + 1) / workers)
    }
}

/// The number of workers `parallelWorkers` uses for `count` items.
public func workerCount(_ count: Int, grain: Int) -> Int { max(1, min(coreCount, count / max(grain, 1))) }

/// Calls `body(worker, block)` once for every block in `0 ..< blocks`, for blocks of uneven
/// cost: workers claim blocks in order from a shared counter, so a core slowed by other work
/// simply claims fewer. `worker` is in `0 ..< workerCount(blocks, grain: 1)` and one worker's
/// calls never overlap, so it can own scratch memory. BLAS is held to one thread inside.
public func parallelBlocks(_ blocks: Int, _ body: (_ worker: Int, _ block: Int) -> Void) {
    guard blocks > 0 else { return }
    holdBLASToOneThread()
    let workers = workerCount(blocks, grain: 1)
    if workers == 1 {
        for block in 0..<blocks { body(0, block) }
        return
    }
    let claims = BlockClaims(count: blocks)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        while let block = claims.next() { body(worker, block) }
    }
}

/// Holds OpenBLAS to one thread (a process-wide setting): the loops above split the work
/// themselves, and a multi-threaded BLAS inside them would oversubscribe the cores.
@inline(__always)
public func holdBLASToOneThread() {
    if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
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
