import CBLAS
import NN

/// A block of squared Euclidean distances: rows `rows` of one set against rows `columns` of
/// another, row-major with row stride `columns.count`.
struct DistanceTile {
    let rows: Range<Int>
    let columns: Range<Int>
    let values: UnsafeMutablePointer<Double>

    /// The distances from row `i` (a global row index) to every column of the tile.
    @inline(__always)
    func row(_ i: Int) -> UnsafeMutablePointer<Double> { values + (i - rows.lowerBound) * columns.count }
}

/// Squared Euclidean distances between every row of `a` and every row of `b`, made tile by tile
/// and never held whole: |x|^2 + |y|^2 - 2 x.y with the products from cblas_dgemm, negatives
/// from rounding clamped to 0.
enum PairwiseDistances {
    static let rowBlock = 256
    static let columnBlock = 1024

    /// Calls `body(worker, tile)` for every tile. The tiles of one block of rows come to one
    /// worker, one after another in column order, so per-row state indexed by the global row needs
    /// no locks; per-column results must be kept per worker (`worker` is below
    /// `workerCount(rows:)`).
    ///
    /// `upperTriangle` (`a` and `b` the same set): only the pairs i < j, each once. Tiles then
    /// start at the diagonal block, and the entries with j <= i in it are +infinity.
    static func scan(_ a: FeatureMatrix, _ b: FeatureMatrix, upperTriangle: Bool = false,
                     _ body: (_ worker: Int, _ tile: DistanceTile) -> Void) {
        precondition(a.dimension == b.dimension, "PairwiseDistances: dimensions differ")
        let d = a.dimension
        let normsA = a.squaredRowNorms, normsB = upperTriangle ? normsA : b.squaredRowNorms
        let blocks = (a.count + rowBlock - 1) / rowBlock
        let workers = workerCount(rows: a.count)
        let scratch = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: rowBlock * columnBlock) }
        defer { scratch.forEach { $0.deallocate() } }
        a.values.withUnsafeBufferPointer { x in
            b.values.withUnsafeBufferPointer { y in
                parallelBlocks(blocks) { worker, block in
                    let rows = block * rowBlock ..< min(a.count, (block + 1) * rowBlock)
                    var start = upperTriangle ? rows.lowerBound : 0
                    while start < b.count {
                        let columns = start ..< min(b.count, start + columnBlock)
                        let tile = DistanceTile(rows: rows, columns: columns, values: scratch[worker])
                        if d > 0 {
                            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                                        Int32(rows.count), Int32(columns.count), Int32(d),
                                        -2, x.baseAddress! + rows.lowerBound * d, Int32(d),
                                        y.baseAddress! + columns.lowerBound * d, Int32(d),
                                        0, tile.values, Int32(columns.count))
                        } else {
                            tile.values.initialize(repeating: 0, count: rows.count * columns.count)
                        }
                        normsB.withUnsafeBufferPointer { nb in
                            for i in rows {
                                let out = tile.row(i), ni = normsA[i]
                                let nbColumns = nb.baseAddress! + columns.lowerBound
                                for j in 0..<columns.count { out[j] = max(0, out[j] + ni + nbColumns[j]) }
                                if upperTriangle && columns.contains(i) {
                                    for j in columns.lowerBound...i { out[j - columns.lowerBound] = .infinity }
                                }
                            }
                        }
                        body(worker, tile)
                        start = columns.upperBound
                    }
                }
            }
        }
    }

    /// The number of distinct `worker` values `scan` passes for a first set of `rows` rows.
    static func workerCount(rows: Int) -> Int {
        NN.workerCount((rows + rowBlock - 1) / rowBlock, grain: 1)
    }
}

enum NearestNeighbors {
    /// For every row of `set`, the squared distances to its `k` nearest other rows, ascending:
    /// row i is `result[i * k ..< (i + 1) * k]`. The row itself is left out; a duplicate of it
    /// counts, at distance 0. Requires `set.count > k`.
    ///
    /// The references (prdc, torch-fidelity) take the (k + 1)-th smallest distance with the
    /// point itself included at distance 0; leaving the point out and taking the k-th smallest
    /// is the same number.
    static func smallestSquaredDistances(in set: FeatureMatrix, k: Int) -> [Double] {
        precondition(k >= 1 && set.count > k, "NearestNeighbors: need more than k = \(k) rows, have \(set.count)")
        let n = set.count
        // Each pair i < j is seen once: as a row entry by the worker owning row i's block (into
        // `nearest`), and as a column entry by whichever worker has the tile (into its own
        // `columnNearest`, with `columnWorst` its last element, for a quick test). Merged after.
        var nearest = [Double](repeating: .infinity, count: n * k)
        let workers = PairwiseDistances.workerCount(rows: n)
        let columnNearest = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n * k) }
        let columnWorst = (0..<workers).map { _ in UnsafeMutablePointer<Double>.allocate(capacity: n) }
        defer { (columnNearest + columnWorst).forEach { $0.deallocate() } }
        for w in 0..<workers {
            columnNearest[w].initialize(repeating: .infinity, count: n * k)
            columnWorst[w].initialize(repeating: .infinity, count: n)
        }
        nearest.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            PairwiseDistances.scan(set, set, upperTriangle: true) { worker, tile in
                let c0 = tile.columns.lowerBound
                let columns = columnNearest[worker] + c0 * k, worst = columnWorst[worker] + c0
                for i in tile.rows {
                    let distances = tile.row(i)
                    insertSmallest(distances, count: tile.columns.count, into: base + i * k, k: k)
                    for j in 0..<tile.columns.count where distances[j] < worst[j] {
                        insertSmallest(distances + j, count: 1, into: columns + j * k, k: k)
                        worst[j] = columns[j * k + k - 1]
                    }
                }
            }
            for w in 0..<workers {
                for i in 0..<n { insertSmallest(columnNearest[w] + i * k, count: k, into: base + i * k, k: k) }
            }
        }
        return nearest
    }

    /// Keeps in `best` (ascending, length k) the k smallest of its values and `values`.
    @inline(__always)
    static func insertSmallest(_ values: UnsafePointer<Double>, count: Int,
                               into best: UnsafeMutablePointer<Double>, k: Int) {
        var worst = best[k - 1]
        for j in 0..<count {
            let value = values[j]
            if value < worst {
                var p = k - 1
                while p > 0 && best[p - 1] > value {
                    best[p] = best[p - 1]
                    p -= 1
                }
                best[p] = value
                worst = best[k - 1]
            }
        }
    }

    /// Column `k - 1` of `smallestSquaredDistances`: the squared radius of every row's ball.
    static func squaredRadii(_ nearest: [Double], stride: Int, k: Int) -> [Double] {
        stride == 0 ? [] : (0..<(nearest.count / stride)).map { nearest[$0 * stride + k - 1] }
    }
}
