import Dispatch
import Foundation

/// Cores used by the loops Diffuse runs itself (OpenBLAS manages its own threads, and the two
/// never run at the same time: elementwise work happens between BLAS calls).
let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body(range)` over `0..<count` split into contiguous chunks on all cores; small jobs
/// (fewer than `grain` items per core) run inline, where thread hand-off would cost more.
@inline(__always)
func parallelChunks(_ count: Int, grain: Int = 16_384, _ body: (Range<Int>) -> Void) {
    let chunks = min(coreCount, count / max(grain, 1))
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let start = count * c / chunks
        let end = count * (c + 1) / chunks
        body(start..<end)
    }
}
