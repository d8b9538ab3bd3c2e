/// The one-dimensional transforms of Winograd's minimal filtering F(m, 3) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016), and a loop that applies one of them
/// elementwise along whole arrays, eight positions at a time.
///
/// A 2-D tile F(m x m, 3x3) nests the 1-D transform along both tile axes: an α x α input tile d
/// (α = m + 2) becomes V = B^T d B, a 3x3 filter g becomes U = G g G^T (α x α), and the m x m
/// output tile is A^T (U ⊙ V) A. Each transform below maps the vectors d(0), d(1), ... of one
/// axis to out(0, ·), out(1, ·), ...; every lane is an independent tile (or filter).
typealias WinogradVector = SIMD8<Float>

protocol WinogradTiling {
    /// m, the side of an output tile; input tiles are m + 2 on a side.
    static var outputSize: Int { get }
    /// B^T: α input values to α transformed values.
    static func transformInput(_ d: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void)
    /// G: the 3 taps of a filter row or column to α values.
    static func transformFilter(_ g: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void)
    /// A^T: α products to the m outputs.
    static func transformOutput(_ p: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void)
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
    static func transformInput(_ d: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void) {
        let (d0, d1, d2, d3) = (d(0), d(1), d(2), d(3))
        out(0, d0 - d2)
        out(1, d1 + d2)
        out(2, d2 - d1)
        out(3, d1 - d3)
    }

    @inline(__always)
    static func transformFilter(_ g: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void) {
        let (g0, g1, g2) = (g(0), g(1), g(2))
        let outer = g0 + g2
        out(0, g0)
        out(1, 0.5 * (outer + g1))
        out(2, 0.5 * (outer - g1))
        out(3, g2)
    }

    @inline(__always)
    static func transformOutput(_ p: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void) {
        let (p0, p1, p2, p3) = (p(0), p(1), p(2), p(3))
        out(0, p0 + p1 + p2)
        out(1, p1 - p2 - p3)
    }
}

/// F(4x4, 3x3) with interpolation points 0, ±1, ±2: 36 products per 16 outputs (4 times fewer
/// multiplications than direct); its larger coefficients cost some Float32 accuracy.
enum WinogradF4: WinogradTiling {
    static var outputSize: Int { 4 }

    @inline(__always)
    static func transformInput(_ d: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void) {
        let (d0, d1, d2, d3, d4, d5) = (d(0), d(1), d(2), d(3), d(4), d(5))
        let a = d4 - 4 * d2, b = d3 - 4 * d1
        let c = d4 - d2, e = 2 * (d3 - d1)
        out(0, 4 * d0 - 5 * d2 + d4)
        out(1, a + b)
        out(2, a - b)
        out(3, c + e)
        out(4, c - e)
        out(5, 4 * d1 - 5 * d3 + d5)
    }

    @inline(__always)
    static func transformFilter(_ g: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void) {
        let (g0, g1, g2) = (g(0), g(1), g(2))
        let outer = g0 + g2, quarter = g0 * 0.25 + g2
        out(0, 0.25 * g0)
        out(1, (-1.0 / 6) * (outer + g1))
        out(2, (-1.0 / 6) * (outer - g1))
        out(3, (1.0 / 6) * (quarter + 0.5 * g1))
        out(4, (1.0 / 6) * (quarter - 0.5 * g1))
        out(5, g2)
    }

    @inline(__always)
    static func transformOutput(_ p: (Int) -> WinogradVector, _ out: (Int, WinogradVector) -> Void) {
        let (p0, p1, p2, p3, p4, p5) = (p(0), p(1), p(2), p(3), p(4), p(5))
        let sum12 = p1 + p2, difference12 = p1 - p2
        let sum34 = p3 + p4, difference34 = p3 - p4
        out(0, p0 + sum12 + sum34)
        out(1, difference12 + 2 * difference34)
        out(2, sum12 + 4 * sum34)
        out(3, difference12 + 8 * difference34 + p5)
    }
}

/// Applies a 1-D transform at each of `count` positions: its input k at position j is
/// `source[k * sourceStep + j]`, its output k goes to `destination[k * destinationStep + j]`.
/// Each position's inputs are all read before its outputs are written, so sources and
/// destinations may overlap.
@inline(__always)
func transformArrays(count: Int, source: UnsafePointer<Float>, sourceStep: Int,
                     destination: UnsafeMutablePointer<Float>, destinationStep: Int,
                     _ transform: ((Int) -> WinogradVector, (Int, WinogradVector) -> Void) -> Void) {
    let width = WinogradVector.scalarCount
    var j = 0
    while j + width <= count {
        let (from, to) = (UnsafeRawPointer(source + j), UnsafeMutableRawPointer(destination + j))
        transform({ from.loadUnaligned(fromByteOffset: $0 * sourceStep * 4, as: WinogradVector.self) },
                  { to.storeBytes(of: $1, toByteOffset: $0 * destinationStep * 4, as: WinogradVector.self) })
        j += width
    }
    let rest = count - j
    guard rest > 0 else { return }
    let (from, to) = (source + j, destination + j)
    transform({ k in
        var v = WinogradVector()
        for lane in 0..<rest { v[lane] = from[k * sourceStep + lane] }
        return v
    }, { k, v in
        for lane in 0..<rest { to[k * destinationStep + lane] = v[lane] }
    })
}
