/// Numpy broadcasting for the elementwise kernels: shapes align on the right, and a dimension of
/// size 1 stretches to its partner's size.
struct BroadcastLayout {
    /// The result shape, with runs of dimensions that broadcast alike merged into one.
    var shape: [Int]
    /// Per operand, the element strides over `shape` (0 along a broadcast dimension).
    var strides: [[Int]]

    /// The broadcast shape of `shapes`, or nil when two sizes differ and neither is 1.
    static func resultShape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            for (i, size) in shape.enumerated() {
                let d = rank - shape.count + i
                if result[d] == 1 { result[d] = size } else if size != 1 && size != result[d] { return nil }
            }
        }
        return result
    }

    /// The layout for reading each of `operands` (shapes broadcastable to `result`) over `result`.
    init(result: [Int], operands: [[Int]]) {
        let rank = result.count
        let full: [[Int]] = operands.map { shape in
            let padded = [Int](repeating: 1, count: rank - shape.count) + shape
            let contiguous = Tensor.strides(of: padded)
            return (0..<rank).map { padded[$0] == 1 && result[$0] != 1 ? 0 : contiguous[$0] }
        }
        // Merge dimension d into d+1 when, for every operand, stepping d once equals stepping
        // d+1 through its whole size: the merged loop visits the same elements in order.
        var shape: [Int] = []
        var strides = [[Int]](repeating: [], count: operands.count)
        for d in 0..<rank where result[d] != 1 {
            if let last = shape.indices.last,
               full.indices.allSatisfy({ strides[$0][last] == full[$0][d] * result[d] }) {
                shape[last] *= result[d]
                for k in full.indices { strides[k][last] = full[k][d] }
            } else {
                shape.append(result[d])
                for k in full.indices { strides[k].append(full[k][d]) }
            }
        }
        if shape.isEmpty {
            shape = [1]
            strides = strides.map { _ in [1] }
        }
        self.shape = shape
        self.strides = strides
    }

    /// Calls `inner(offsets, n)` for every run of the innermost dimension, where `offsets[k]` is
    /// operand k's element offset at the start of the run and `n` the run length.
    func forEachRun(_ inner: ([Int], Int) -> Void) {
        let outer = shape.count - 1
        var index = [Int](repeating: 0, count: outer)
        var offsets = [Int](repeating: 0, count: strides.count)
        let runs = shape[..<outer].reduce(1, *)
        for _ in 0..<runs {
            inner(offsets, shape[outer])
            var d = outer - 1
            while d >= 0 {
                index[d] += 1
                for k in offsets.indices { offsets[k] += strides[k][d] }
                if index[d] < shape[d] { break }
                for k in offsets.indices { offsets[k] -= strides[k][d] * shape[d] }
                index[d] = 0
                d -= 1
            }
        }
    }
}
