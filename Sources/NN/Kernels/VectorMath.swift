import Foundation

/// Eight-lane Float math for the elementwise kernels. The compiler does not vectorize a loop
/// that calls libm's expf or that sums floats (reordering a sum changes its rounding), so the
/// kernels that need either use these SIMD8 helpers and a scalar loop for the remainder.
typealias Float8 = SIMD8<Float>

/// Eight floats from `p` (no alignment needed).
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Float8 { UnsafeRawPointer(p).loadUnaligned(as: Float8.self) }

/// Stores eight floats at `p` (no alignment needed).
@inline(__always)
func store8(_ value: Float8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: value, as: Float8.self) }

/// e^x for each lane, within about 2 ulp of expf for -87.3 <= x <= 88.7 (Cephes' expf:
/// x = n ln 2 + r with |r| <= ln 2 / 2, a degree-5 polynomial for e^r, 2^n built in the exponent
/// bits). Saturating outside that range: about 1e-38 below it and 3.4e38 above, which is all the
/// sigmoid needs (NaN lanes give NaN). Only float arithmetic, blends and bit casts: Swift's generic
/// SIMD conversions and rounding run lane by lane through the standard library and cost more than
/// the polynomial.
@inline(__always)
func exp(_ x: Float8) -> Float8 {
    // (replace(with:where:) compiles to vector blends; clamped(lowerBound:upperBound:) goes lane by lane)
    var clamped = x
    clamped.replace(with: -87.336_54, where: clamped .< -87.336_54)
    clamped.replace(with: 88.722_83, where: clamped .> 88.722_83)
    // n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer held in the low mantissa bits
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    // r = x - n ln 2, with ln 2 split in two for an exact first product
    var r = clamped - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    var p = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_1e-1
    let er = p * (r * r) + r + 1
    // 2^n as 2^half 2^(n - half), each a normal float built in the exponent bits, so that
    // n = 128 (x near ln FLT_MAX) and n = -126 both stay in range
    let whole = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000, half = whole &>> 1
    let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: Float8.self)
    let scale2 = unsafeBitCast((whole &- half &+ 127) &<< 23, to: Float8.self)
    return er * scale1 * scale2
}

/// 1 / (1 + e^-x) for each lane.
@inline(__always)
func sigmoid(_ x: Float8) -> Float8 { 1 / (1 + exp(-x)) }

/// 1 / (1 + e^-x) for one value, for the scalar remainders of the SIMD loops.
@inline(__always)
func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

/// The sum of `count` floats from `p`, accumulated in eight Float lanes over blocks of at most
/// 512 elements and in Double across blocks: the error stays near Float's rounding of the
/// result however long the sum (a plain Float running sum loses digits as it grows).
@inline(__always)
func sum(_ p: UnsafePointer<Float>, count: Int) -> Double {
    sumOfTerms(count) { i in load8(p + i) } scalar: { p[$0] }
}

/// The sum of term(i) over 0 ..< count, eight at a time (`lanes(i)` gives terms i ..< i + 8),
/// in eight Float lanes per block of at most 512 terms and in Double across blocks.
@inline(__always)
func sumOfTerms(_ count: Int, lanes: (Int) -> Float8, scalar: (Int) -> Float) -> Double {
    var total = 0.0, i = 0
    while i + 8 <= count {
        let blockEnd = min(count, i + 512)
        var accumulator = Float8()
        while i + 8 <= blockEnd {
            accumulator += lanes(i)
            i += 8
        }
        total += Double(accumulator.sum())
    }
    var tail: Float = 0
    while i < count {
        tail += scalar(i)
        i += 1
    }
    return total + Double(tail)
}

/// Two sums at once, as `sumOfTerms`: (sum of a(i), sum of b(i)) over 0 ..< count.
@inline(__always)
func sumOfTermPairs(_ count: Int, lanes: (Int) -> (Float8, Float8), scalar: (Int) -> (Float, Float)) -> (Double, Double) {
    var total = (0.0, 0.0), i = 0
    while i + 8 <= count {
        let blockEnd = min(count, i + 512)
        var first = Float8(), second = Float8()
        while i + 8 <= blockEnd {
            let (a, b) = lanes(i)
            first += a
            second += b
            i += 8
        }
        total = (total.0 + Double(first.sum()), total.1 + Double(second.sum()))
    }
    var tail: (Float, Float) = (0, 0)
    while i < count {
        let (a, b) = scalar(i)
        tail = (tail.0 + a, tail.1 + b)
        i += 1
    }
    return (total.0 + Double(tail.0), total.1 + Double(tail.1))
}
