/// The one-dimensional transforms of Winograd's minimal filtering F(m, 3) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016) that the weights and the gradients use,
/// and a loop that applies one of them elementwise along whole arrays, eight positions at a time.
/// The forward pass's input and output transforms (B^T, A^T) are in C, compiled for the CPU it
/// runs on: Sources/Kernels/winograd.h.
///
/// A 2-D tile F(m x m, 3x3) nests the 1-D transform along both tile axes: an α x α input tile d
/// (α = m + 2) becomes V = B^T d B, a 3x3 filter g becomes U = G g G^T (α x α), and the m x m
/// output tile is A^T (U ⊙ V) A. The weight gradient uses the transposed transforms
/// (F(3x3, m x m)): an m x m output-gradient tile dy becomes A dy A^T, and the sum over tiles
/// of (A dy A^T) ⊙ (B^T d B) becomes the 3x3 kernel gradient through G^T · G. Each transform
/// below maps the vectors of one tile axis to its outputs; every lane is an independent tile
/// (or filter).
typealias WinogradVector = SIMD8<Float>

/// Vectors `step` bytes apart in memory: the values of one tile axis, for eight tiles at once.
struct VectorRows {
    let base: UnsafeMutableRawPointer
    let step: Int

    init(_ base: UnsafeMutablePointer<Float>, step: Int) {
        (self.base, self.step) = (UnsafeMutableRawPointer(base), step * MemoryLayout<Float>.stride)
    }

    subscript(k: Int) -> WinogradVector {
        @inline(__always) get { base.loadUnaligned(fromByteOffset: k * step, as: WinogradVector.self) }
        @inline(__always) nonmutating set { base.storeBytes(of: newValue, toByteOffset: k * step, as: WinogradVector.self) }
    }
}

protocol WinogradTiling {
    /// m, the side of an output tile; input tiles are m + 2 on a side.
    static var outputSize: Int { get }
    /// G: the 3 taps of a filter row or column to α values.
    static func transformFilter(_ g: VectorRows, _ out: VectorRows)
    /// A: m output-gradient values to α. Reads all of y before writing out.
    static func transformGradient(_ y: VectorRows, _ out: VectorRows)
    /// G^T: α summed products to the 3 taps' gradients.
    static func transformWeightGradient(_ s: VectorRows, _ out: VectorRows)
    /// Deinterleaves a row into the α values of eight tiles: out[t] lane j = row[m j + t], for
    /// t in 0..<α. Reads row[0 ..< 9 m].
    static func gatherTiles(_ row: UnsafePointer<Float>, _ out: VectorRows)
}

extension WinogradTiling {
    /// α, the side of an input tile.
    static var inputSize: Int { outputSize + 2 }
}

/// F(2x2, 3x3): 16 products per 4 outputs (2.25 times fewer multiplications than direct), with
/// coefficients 0, ±1 and ±1/2, so about as accurate as direct convolution.
enum WinogradF2: WinogradTiling {
    static var outputSize: Int { 2 }

    @inline(__always)
    static func transformFilter(_ g: VectorRows, _ out: VectorRows) {
        let (g0, g1, g2) = (g[0], g[1], g[2])
        let outer = g0 + g2
        out[0] = g0
        out[1] = 0.5 * (outer + g1)
        out[2] = 0.5 * (outer - g1)
        out[3] = g2
    }

    @inline(__always)
    static func transformGradient(_ y: VectorRows, _ out: VectorRows) {
        let (y0, y1) = (y[0], y[1])
        out[0] = y0
        out[1] = y0 + y1
        out[2] = y0 - y1
        out[3] = -y1
    }

    @inline(__always)
    static func transformWeightGradient(_ s: VectorRows, _ out: VectorRows) {
        let (s0, s1, s2, s3) = (s[0], s[1], s[2], s[3])
        let half = 0.5 * (s1 + s2)
        out[0] = s0 + half
        out[1] = 0.5 * (s1 - s2)
        out[2] = half + s3
    }

    @inline(__always)
    static func gatherTiles(_ row: UnsafePointer<Float>, _ out: VectorRows) {
        let raw = UnsafeRawPointer(row)
        let a = raw.loadUnaligned(as: SIMD16<Float>.self), b = raw.loadUnaligned(fromByteOffset: 8, as: SIMD16<Float>.self)
        out[0] = a.evenHalf
        out[1] = a.oddHalf
        out[2] = b.evenHalf
        out[3] = b.oddHalf
    }
}

/// F(4x4, 3x3) with interpolation points 0, ±1, ±2: 36 products per 16 outputs (4 times fewer
/// multiplications than direct); its larger coefficients cost some Float32 accuracy.
enum WinogradF4: WinogradTiling {
    static var outputSize: Int { 4 }

    @inline(__always)
    static func transformFilter(_ g: VectorRows, _ out: VectorRows) {
        let (g0, g1, g2) = (g[0], g[1], g[2])
        let outer = g0 + g2, quarter = g0 * 0.25 + g2
        out[0] = 0.25 * g0
        out[1] = (-1.0 / 6) * (outer + g1)
        out[2] = (-1.0 / 6) * (outer - g1)
        out[3] = (1.0 / 6) * (quarter + 0.5 * g1)
        out[4] = (1.0 / 6) * (quarter - 0.5 * g1)
        out[5] = g2
    }

    @inline(__always)
    static func transformGradient(_ y: VectorRows, _ out: VectorRows) {
        let (y0, y1, y2, y3) = (y[0], y[1], y[2], y[3])
        let even = y0 + y2, odd = y1 + y3
        let evenScaled = y0 + 4 * y2, oddScaled = 2 * y1 + 8 * y3
        out[0] = y0
        out[1] = even + odd
        out[2] = even - odd
        out[3] = evenScaled + oddScaled
        out[4] = evenScaled - oddScaled
        out[5] = y3
    }

    @inline(__always)
    static func transformWeightGradient(_ s: VectorRows, _ out: VectorRows) {
        let (s0, s1, s2, s3, s4, s5) = (s[0], s[1], s[2], s[3], s[4], s[5])
        let sum12 = s1 + s2, sum34 = s3 + s4
        out[0] = 0.25 * s0 - (1.0 / 6) * sum12 + (1.0 / 24) * sum34
        out[1] = (1.0 / 6) * (s2 - s1) + (1.0 / 12) * (s3 - s4)
        out[2] = (1.0 / 6) * (sum34 - sum12) + s5
    }

    @inline(__always)
    static func gatherTiles(_ row: UnsafePointer<Float>, _ out: VectorRows) {
        let raw = UnsafeRawPointer(row)
        let a = raw.loadUnaligned(as: SIMD32<Float>.self), b = raw.loadUnaligned(fromByteOffset: 16, as: SIMD32<Float>.self)
        let (aEven, aOdd) = (a.evenHalf, a.oddHalf)
        out[0] = aEven.evenHalf
        out[1] = aOdd.evenHalf
        out[2] = aEven.oddHalf
        out[3] = aOdd.oddHalf
        out[4] = b.evenHalf.evenHalf
        out[5] = b.oddHalf.evenHalf
    }
}

/// Which transform `transformArrays` applies.
enum WinogradTransform {
    case filter, gradient, weightGradient

    /// The numbers of values the transform reads and writes.
    func counts<Tiling: WinogradTiling>(_ tiling: Tiling.Type) -> (inputs: Int, outputs: Int) {
        let (m, alpha) = (Tiling.outputSize, Tiling.inputSize)
        switch self {
        case .filter: return (3, alpha)
        case .gradient: return (m, alpha)
        case .weightGradient: return (alpha, 3)
        }
    }
}

/// Applies a 1-D transform at each of `count` positions: its input k at position j is
/// `source[k * sourceStep + j]`, its output k goes to `destination[k * destinationStep + j]`.
/// Each position's inputs are all read before its outputs are written, so sources and
/// destinations may be the same arrays.
@inline(__always)
func transformArrays<Tiling: WinogradTiling>(_ transform: WinogradTransform, _ tiling: Tiling.Type, count: Int,
                                             source: UnsafeMutablePointer<Float>, sourceStep: Int,
                                             destination: UnsafeMutablePointer<Float>, destinationStep: Int) {
    @inline(__always) func apply(_ from: VectorRows, _ to: VectorRows) {
        switch transform {
        case .filter: Tiling.transformFilter(from, to)
        case .gradient: Tiling.transformGradient(from, to)
        case .weightGradient: Tiling.transformWeightGradient(from, to)
        }
    }
    let width = WinogradVector.scalarCount
    var j = 0
    while j + width <= count {
        apply(VectorRows(source + j, step: sourceStep), VectorRows(destination + j, step: destinationStep))
        j += width
    }
    let rest = count - j
    guard rest > 0 else { return }
    // The last positions through a zero-padded copy, eight lanes a row.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * 8 * width) { buffer in
        let (from, to) = (buffer.baseAddress!, buffer.baseAddress! + 8 * width)
        from.initialize(repeating: 0, count: 8 * width)
        let (inputs, outputs) = transform.counts(tiling)
        for k in 0..<inputs {
            for lane in 0..<rest { from[k * width + lane] = source[k * sourceStep + j + lane] }
        }
        apply(VectorRows(from, step: width), VectorRows(to, step: width))
        for k in 0..<outputs {
            for lane in 0..<rest { destination[k * destinationStep + j + lane] = to[k * width + lane] }
        }
    }
}
