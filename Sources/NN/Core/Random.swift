import Foundation

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", 2011): a
/// counter-based generator. Block `i` of the stream is a pure function of (seed, i), so any
/// slice of a noise stream can be made on its own: a set of samples made in shards equals the
/// set made in one run.
public struct Philox: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The four 32-bit words of block `counter`.
    @inline(__always)
    public func block(_ counter: UInt64) -> SIMD4<UInt32> {
        var c = SIMD4<UInt32>(UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32), 0, 0)
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
            c = SIMD4(UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k0, UInt32(truncatingIfNeeded: p1),
                      UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k1, UInt32(truncatingIfNeeded: p0))
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return c
    }

    /// A uniform number in the open interval (0, 1) from 24 random bits.
    @inline(__always)
    static func unit(_ word: UInt32) -> Float {
        (Float(word >> 8) + 0.5) * (1.0 / 16_777_216.0)
    }

    /// Fills `out` with elements `start ..< start + out.count` of the uniform [0, 1) stream.
    /// Element j comes from word j % 4 of block j / 4.
    public func fillUniform(_ out: UnsafeMutableBufferPointer<Float>, start: Int = 0) {
        fill(out, start: start) { words in
            SIMD4<Float>(SIMD4<UInt32>(truncatingIfNeeded: words &>> 8)) * (1.0 / 16_777_216.0)
        }
    }

    /// Fills `out` with elements `start ..< start + out.count` of the standard normal stream.
    /// Each block's four words make four normals by the Box-Muller transform.
    public func fillNormal(_ out: UnsafeMutableBufferPointer<Float>, start: Int = 0) {
        fill(out, start: start) { words in
            let u = SIMD4(Philox.unit(words[0]), Philox.unit(words[1]), Philox.unit(words[2]), Philox.unit(words[3]))
            let r0 = (-2 * log(u[0])).squareRoot(), r1 = (-2 * log(u[2])).squareRoot()
            let a0 = 2 * Float.pi * u[1], a1 = 2 * Float.pi * u[3]
            return SIMD4(r0 * cos(a0), r0 * sin(a0), r1 * cos(a1), r1 * sin(a1))
        }
    }

    /// Writes the stream elements `start ..< start + out.count`, four per block, where
    /// `transform` turns a block's words into its four elements.
    private func fill(_ out: UnsafeMutableBufferPointer<Float>, start: Int,
                      _ transform: (SIMD4<UInt32>) -> SIMD4<Float>) {
        precondition(start >= 0, "negative stream offset")
        var i = 0
        while i < out.count {
            let element = start + i
            let values = transform(block(UInt64(element / 4)))
            var lane = element % 4
            while lane < 4 && i < out.count {
                out[i] = values[lane]
                lane += 1
                i += 1
            }
        }
    }
}

extension Tensor {
    /// Standard normal noise: elements `offset ..< offset + count` of seed `seed`'s stream.
    public static func randn(_ shape: [Int], seed: UInt64, offset: Int = 0) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { Philox(seed: seed).fillNormal($0, start: offset) }
        return t
    }

    /// Uniform noise in [0, 1): elements `offset ..< offset + count` of seed `seed`'s stream.
    public static func rand(_ shape: [Int], seed: UInt64, offset: Int = 0) -> Tensor {
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { Philox(seed: seed).fillUniform($0, start: offset) }
        return t
    }
}
