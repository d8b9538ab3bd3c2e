import NN

/// `count` feature vectors of dimension `dimension`, one a row, row-major, in Float64.
public struct FeatureMatrix: Sendable, Equatable {
    public let count: Int
    public let dimension: Int
    /// `count * dimension` numbers; row `i` is `values[i * dimension ..< (i + 1) * dimension]`.
    public private(set) var values: [Double]

    public init(count: Int, dimension: Int, values: [Double]) {
        precondition(count >= 0 && dimension >= 0 && values.count == count * dimension,
                     "FeatureMatrix: \(values.count) values for \(count) x \(dimension)")
        self.count = count
        self.dimension = dimension
        self.values = values
    }

    /// The rows of a tensor (N, D), or (N, ...) flattened per row; a scalar is one 1-vector.
    public init(_ tensor: Tensor) {
        let rows = tensor.rank == 0 ? 1 : tensor.shape[0]
        let dimension = tensor.rank == 0 ? 1 : tensor.shape.dropFirst().reduce(1, *)
        let values = tensor.withUnsafeBufferPointer { $0.map(Double.init) }
        self.init(count: rows, dimension: dimension, values: values)
    }

    /// The rows of an array read from an .npy file: (N, D), or (N, ...) flattened per row.
    public init(_ array: NpyArray) throws {
        guard array.shape.count >= 2 else {
            throw MetricError.invalidArgument(
                "features must be an array of shape (N, D) or (N, ...), got shape \(array.shape)")
        }
        self.init(count: array.shape[0], dimension: array.shape.dropFirst().reduce(1, *), values: array.doubles)
    }

    /// Row `i`.
    public func row(_ i: Int) -> ArraySlice<Double> { values[i * dimension ..< (i + 1) * dimension] }

    /// The rows `indices`, in that order.
    public func rows(_ indices: [Int]) -> FeatureMatrix {
        var out = [Double]()
        out.reserveCapacity(indices.count * dimension)
        for i in indices { out.append(contentsOf: row(i)) }
        return FeatureMatrix(count: indices.count, dimension: dimension, values: out)
    }

    /// Every value multiplied by `factor` (for memorization: pixels times 1 / sqrt(C H W)).
    public func scaled(by factor: Double) -> FeatureMatrix {
        FeatureMatrix(count: count, dimension: dimension, values: values.map { $0 * factor })
    }

    /// Throws unless every value is finite; `name` names the set in the error.
    func checkFinite(_ name: String) throws {
        let finite = values.withUnsafeBufferPointer { buffer in
            var sum = 0.0
            for value in buffer { sum += value * 0 }  // NaN * 0 and inf * 0 are NaN.
            return sum == 0
        }
        guard finite else { throw MetricError.nonFiniteValue(name) }
    }

    /// Throws unless the set has `needed` rows or more and every value is finite.
    func check(_ name: String, atLeast needed: Int) throws {
        guard count >= needed else { throw MetricError.tooFewSamples(name, needed: needed, got: count) }
        try checkFinite(name)
    }

    /// The squared Euclidean norm of every row.
    var squaredRowNorms: [Double] {
        values.withUnsafeBufferPointer { v in
            (0..<count).map { i in
                var sum = 0.0
                for j in 0..<dimension { sum += v[i * dimension + j] * v[i * dimension + j] }
                return sum
            }
        }
    }
}

/// Throws unless `a` and `b` have the same feature dimension.
func checkSameDimension(_ a: FeatureMatrix, _ b: FeatureMatrix, _ what: String) throws {
    guard a.dimension == b.dimension else { throw MetricError.dimensionMismatch(what, a.dimension, b.dimension) }
}
