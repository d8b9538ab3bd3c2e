import NN

/// Seeded, shuffled batches over a dataset, epoch after epoch.
///
/// Batch b (counting across epochs) is a pure function of (seed, b): epoch e = b / batchesPerEpoch
/// is a permutation drawn from the counter-based generator at block range e, and each slot's
/// horizontal flip comes from the same stream. A resumed run asks for batch b and gets what an
/// uninterrupted run got. The last batch of an epoch is smaller when the batch size does not
/// divide the dataset.
public final class BatchSampler {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64
    public let randomFlip: Bool
    private var cachedEpoch = -1
    private var permutation: [Int] = []

    public init(count: Int, batchSize: Int, seed: UInt64, randomFlip: Bool) {
        precondition(count > 0 && batchSize > 0, "a sampler needs images and a positive batch size")
        (self.count, self.batchSize, self.seed, self.randomFlip) = (count, batchSize, seed, randomFlip)
    }

    public var batchesPerEpoch: Int { (count + batchSize - 1) / batchSize }

    /// The dataset indices of batch `index` and whether to mirror each image.
    public func batch(_ index: Int) -> (indices: [Int], flips: [Bool]) {
        let epoch = index / batchesPerEpoch, position = index % batchesPerEpoch
        if epoch != cachedEpoch {
            permutation = Self.permutation(count, seed: seed, epoch: epoch)
            cachedEpoch = epoch
        }
        let slots = (position * batchSize)..<min((position + 1) * batchSize, count)
        let indices = Array(permutation[slots])
        guard randomFlip else { return (indices, [Bool](repeating: false, count: indices.count)) }
        let generator = Philox(seed: seed)
        // Flip bits use a counter range of their own, after the permutation's.
        let flips = slots.map { slot in
            generator.block(Self.streamStart(epoch: epoch, stream: 1) + UInt64(slot))[0] & 1 == 1
        }
        return (indices, flips)
    }

    /// Counter offset of (epoch, stream): each epoch owns 2^40 blocks, each stream 2^36 of them.
    private static func streamStart(epoch: Int, stream: Int) -> UInt64 { UInt64(epoch) << 40 | UInt64(stream) << 36 }

    /// A Fisher-Yates shuffle of 0 ..< count driven by the epoch's counter range.
    static func permutation(_ count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var order = Array(0..<count)
        let generator = Philox(seed: seed), start = streamStart(epoch: epoch, stream: 0)
        for i in stride(from: count - 1, to: 0, by: -1) {
            let word = generator.block(start + UInt64(i))[0]
            // A uniform integer in 0...i by Lemire's multiply-shift (bias below 2^-32 * count).
            let j = Int((UInt64(word) * UInt64(i + 1)) >> 32)
            order.swapAt(i, j)
        }
        return order
    }
}
