/// A dense Float32 tensor in row-major (C) order; image tensors are NCHW.
///
/// `Tensor` is a value: copies share memory until one of them is written to (copy on write).
public struct Tensor: @unchecked Sendable {
    /// Sizes of the dimensions, outermost first.
    public private(set) var shape: [Int]
    var storage: TensorStorage

    /// The number of elements.
    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// A tensor whose elements are not yet written; kernels fill it.
    init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
    }

    /// A tensor of `shape` holding `values` in row-major order.
    public init(shape: [Int], _ values: [Float]) {
        precondition(shape.reduce(1, *) == values.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    public static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], repeating: value) }

    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs one element, tensor has shape \(shape)")
        return storage.pointer[0]
    }

    /// Read-only pointer to the elements, valid while `self` lives.
    var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

    /// Pointer for writing; copies the storage first if another tensor shares it.
    mutating func mutablePointer() -> UnsafeMutablePointer<Float> {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(uninitializedCount: count)
            copy.pointer.update(from: storage.pointer, count: count)
            storage = copy
        }
        return storage.pointer
    }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeBufferPointer(start: storage.pointer, count: count))
        }
    }

    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        let p = mutablePointer()
        return try withExtendedLifetime(storage) {
            try body(UnsafeMutableBufferPointer(start: p, count: count))
        }
    }

    /// The same elements under another shape of equal size (shares memory).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var t = self
        t.shape = newShape
        return t
    }

    /// The dimensions reordered: result dimension i is dimension `axes[i]` of `self`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "axes \(axes) do not permute rank \(rank)")
        let newShape = axes.map { shape[$0] }
        if rank >= 2 && axes == Array(0..<(rank - 2)) + [rank - 1, rank - 2] {
            return batchedTranspose()
        }
        var out = Tensor(uninitializedShape: newShape)
        let srcStrides = Tensor.strides(of: shape)
        let permutedStrides = axes.map { srcStrides[$0] }
        let src = pointer, dst = out.mutablePointer()
        var index = [Int](repeating: 0, count: rank)
        var offset = 0
        for i in 0..<count {
            dst[i] = src[offset]
            // Advance the multi-index of the result, carrying the source offset along.
            var d = rank - 1
            while d >= 0 {
                index[d] += 1
                offset += permutedStrides[d]
                if index[d] < newShape[d] { break }
                offset -= permutedStrides[d] * newShape[d]
                index[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// The last two dimensions swapped (the hot case of `permuted`: attention's tokens <->
    /// channels), copied in tiles so that reads and writes both stay in cache.
    private func batchedTranspose() -> Tensor {
        let (rows, columns) = (shape[rank - 2], shape[rank - 1])
        let matrices = count / max(rows * columns, 1)
        var out = Tensor(uninitializedShape: Array(shape.dropLast(2)) + [columns, rows])
        let src = pointer, dst = out.mutablePointer()
        let tile = 32
        for m in 0..<matrices {
            let a = src + m * rows * columns, b = dst + m * rows * columns
            for r0 in stride(from: 0, to: rows, by: tile) {
                for c0 in stride(from: 0, to: columns, by: tile) {
                    for r in r0..<Swift.min(r0 + tile, rows) {
                        for c in c0..<Swift.min(c0 + tile, columns) { b[c * rows + r] = a[r * columns + c] }
                    }
                }
            }
        }
        return out
    }

    /// Row-major strides of a shape, in elements.
    static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = s
            s *= shape[d]
        }
        return strides
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}
