import XCTest
@testable import NN

/// The fused attention kernel (no L x L matrix) at every instruction-set level this CPU runs,
/// against the earlier GEMM kernel (ReferenceAttention.swift) and against each other.
final class FusedAttentionTests: XCTestCase {
    /// (batch, length, channels, heads): head sizes of the specialized paths (8, 16, 32, 64) and
    /// of the general ones (below and above 64), lengths that fill no whole vector or block.
    let shapes: [(Int, Int, Int, Int)] = [
        (2, 5, 4, 2), (1, 1, 8, 1), (2, 17, 16, 2), (1, 49, 64, 8), (2, 64, 32, 1),
        (1, 100, 96, 3), (1, 33, 72, 1), (1, 20, 128, 2),
    ]

    var levels: [SIMDLevel] { SIMDLevel.allCases.filter(\.isSupported) }

    func testForwardMatchesReferenceAtEveryLevel() {
        for (index, (b, l, c, heads)) in shapes.enumerated() {
            let (q, k, v) = inputs(b, l, c, seed: UInt64(10 * index))
            let reference = referenceAttentionForward(q: q, k: k, v: v, heads: heads)
            for level in levels {
                let fused = attentionForward(q: q, k: k, v: v, heads: heads, keepLogSumExp: true, level: level)
                assertClose(fused.out, reference.out, tolerance: 2e-6, "\(level) forward \(b)x\(l)x\(c)/\(heads)")
                // log-sum-exp of the scaled scores, from the reference's probabilities: p = e^(s - lse)
                let lse = try! XCTUnwrap(fused.logSumExp)
                XCTAssertEqual(lse.shape, [b, heads, l])
                let withoutIt = attentionForward(q: q, k: k, v: v, heads: heads, keepLogSumExp: false, level: level)
                XCTAssertNil(withoutIt.logSumExp)
                XCTAssertEqual(withoutIt.out.scalars, fused.out.scalars)
            }
        }
    }

    func testLogSumExpIsTheSoftmaxNormalizer() {
        let (b, l, c, heads) = (1, 9, 16, 2)
        let (q, k, v) = inputs(b, l, c, seed: 3)
        let d = c / heads
        for level in levels {
            let lse = attentionForward(q: q, k: k, v: v, heads: heads, keepLogSumExp: true, level: level).logSumExp!
            for h in 0..<heads {
                for i in 0..<l {
                    var sum = 0.0
                    for j in 0..<l {
                        var dot: Float = 0
                        for ch in 0..<d { dot += q.scalars[i * c + h * d + ch] * k.scalars[j * c + h * d + ch] }
                        sum += exp(Double(dot / Float(d).squareRoot()))
                    }
                    XCTAssertEqual(Double(lse.scalars[h * l + i]), log(sum), accuracy: 1e-5, "\(level)")
                }
            }
        }
    }

    func testBackwardMatchesReferenceAtEveryLevel() {
        for (index, (b, l, c, heads)) in shapes.enumerated() {
            let (q, k, v) = inputs(b, l, c, seed: UInt64(10 * index + 5))
            let gradOut = Tensor.randn([b, l, c], seed: UInt64(10 * index + 9))
            let reference = referenceAttentionForward(q: q, k: k, v: v, heads: heads)
            let expected = referenceAttentionBackward(q: q, k: k, v: v, probabilities: reference.probabilities,
                                                      gradOut: gradOut, heads: heads)
            for level in levels {
                let forward = attentionForward(q: q, k: k, v: v, heads: heads, keepLogSumExp: true, level: level)
                let grads = attentionBackward(q: q, k: k, v: v, out: forward.out, logSumExp: forward.logSumExp!,
                                              gradOut: gradOut, heads: heads, level: level)
                let name = "\(level) backward \(b)x\(l)x\(c)/\(heads)"
                assertClose(grads.q, expected.q, tolerance: 1e-5, name + " dq")
                assertClose(grads.k, expected.k, tolerance: 1e-5, name + " dk")
                assertClose(grads.v, expected.v, tolerance: 1e-5, name + " dv")
            }
        }
    }

    /// Scores far apart (a sharp softmax) and far from zero: the online softmax rescales its sums
    /// as the running maximum grows and must still equal the two-pass softmax.
    /// 1,100 keys make three blocks of at most 512 (the last one partial).
    func testSharpScoresMatchReference() {
        for (length, seed) in [(70, 77), (1_100, 78)] {
            let (q, k, v) = inputs(1, length, 16, seed: UInt64(seed))
            let sharpQ = q * 40
            let reference = referenceAttentionForward(q: sharpQ, k: k, v: v, heads: 2)
            for level in levels {
                let fused = attentionForward(q: sharpQ, k: k, v: v, heads: 2, keepLogSumExp: true, level: level)
                assertClose(fused.out, reference.out, tolerance: 2e-5, "\(level) sharp, \(length) keys")
            }
        }
    }

    func testGradientsWithEightChannelHeadsMatchFiniteDifferences() {
        let inputs = [Tensor.randn([1, 19, 16], seed: 31), .randn([1, 19, 16], seed: 32), .randn([1, 19, 16], seed: 33)]
        assertGradientsMatchFiniteDifferences(inputs) { attention(query: $0[0], key: $0[1], value: $0[2], heads: 2) }
    }

    /// An untaped pass (sampling) records nothing; a taped one records the op.
    func testInferenceRecordsNothing() {
        let (q, k, v) = inputs(1, 6, 8, seed: 41)
        XCTAssertFalse(Variable.isRecorded([Variable(q), Variable(k), Variable(v)]))
        let tape = Tape()
        let taped = tape.input(q, requiresGradient: true)
        _ = attention(query: taped, key: Variable(k), value: Variable(v), heads: 1)
        XCTAssertEqual(tape.count, 1)
    }

    private func inputs(_ b: Int, _ l: Int, _ c: Int, seed: UInt64) -> (Tensor, Tensor, Tensor) {
        (.randn([b, l, c], seed: seed), .randn([b, l, c], seed: seed + 1), .randn([b, l, c], seed: seed + 2))
    }

    /// max |a - b| <= tolerance * max(1, max |b|).
    private func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Float, _ message: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, message, file: file, line: line)
        let scale = max(1, b.scalars.map(abs).max() ?? 0)
        let difference = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(difference, tolerance * scale, message, file: file, line: line)
    }
}
