import NN

/// A uniformly random permutation of 0 ..< count (Fisher-Yates), the same for the same seed on
/// any machine: random subsets and splits of image sets are reproducible.
public func seededPermutation(_ count: Int, seed: UInt64) -> [Int] {
    var order = Array(0..<count)
    let generator = Philox(seed: seed)
    for i in stride(from: count - 1, to: 0, by: -1) {
        order.swapAt(i, Int((UInt64(generator.block(UInt64(i))[0]) * UInt64(i + 1)) >> 32))
    }
    return order
}
