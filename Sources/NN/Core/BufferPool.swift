import Foundation

/// Recycles Float32 blocks by size, so that a training step in steady state (which frees and
/// asks for the same activation sizes every step) allocates almost nothing from the system.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool(capacity: 1 << 28)

    /// The most floats kept for reuse; above it freed blocks go back to the system.
    private let capacity: Int
    private var pooled = 0
    /// Blocks obtained from the system so far (the steady state of a training loop adds none).
    private(set) var systemAllocations = 0
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private let lock = NSLock()

    init(capacity: Int) { self.capacity = capacity }

    /// An uninitialized block of `count` floats, 64-byte aligned.
    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        lock.lock()
        if let block = free[count]?.popLast() {
            pooled -= count
            lock.unlock()
            return block
        }
        systemAllocations += 1
        lock.unlock()
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func give(_ block: UnsafeMutablePointer<Float>, _ count: Int) {
        lock.lock()
        if pooled + count <= capacity {
            free[count, default: []].append(block)
            pooled += count
            lock.unlock()
            return
        }
        lock.unlock()
        block.deallocate()
    }

    /// Returns every pooled block to the system. Blocks are kept only while the pool is under
    /// its capacity, so a test that counts allocations starts from an empty pool: a pool that
    /// earlier work filled would send freed blocks back to the system and allocate them again.
    func releaseAll() {
        lock.lock()
        let blocks = Array(free.values.joined())
        free = [:]
        pooled = 0
        lock.unlock()
        for block in blocks { block.deallocate() }
    }
}

/// The memory behind one or more tensors (tensors copy it on write when it is shared).
final class TensorStorage {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(uninitializedCount count: Int) {
        self.count = count
        pointer = BufferPool.shared.take(count)
    }

    deinit { BufferPool.shared.give(pointer, count) }
}
