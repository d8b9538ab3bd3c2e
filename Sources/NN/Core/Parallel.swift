import Dispatch
import Foundation

/// Cores used by the loops Diffuse runs itself. BLAS runs single-threaded inside them (see
/// Gemm.swift): splitting work into independent pieces, one per core, keeps both cores busy
/// between BLAS calls as well as inside them.
let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body(range)` over `0..<count` split into contiguous chunks on all cores; small jobs
/// (fewer than `grain` items per core) run inline, where thread hand-off would cost more.
@inline(__always)
func parallelChunks(_ count: Int, grain: Int = 16_384, _ body: (Range<Int>) -> Void) {
    parallelWorkers(count, grain: grain) { _, range in body(range) }
}

/// As `parallelChunks`, also passing the worker's index (0 ..< workerCount(count, grain)), so
/// that each worker can own scratch memory or partial sums.
@inline(__always)
func parallelWorkers(_ count: Int, grain: Int = 1, _ body: (_ worker: Int, Range<Int>) -> Void) {
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
func workerCount(_ count: Int, grain: Int) -> Int { max(1, min(coreCount, count / max(grain, 1))) }
