import XCTest
@testable import NN

/// NN's C kernels at every instruction-set level this CPU runs (the fallbacks included),
/// against plain Double formulas written here. Attention and the Winograd transforms have their
/// own level tests (FusedAttentionTests, WinogradTests).
final class SIMDLevelTests: XCTestCase {
    var levels: [SIMDLevel] { SIMDLevel.allCases.filter(\.isSupported) }

    func testBaselineRunsEverywhereAndNativeIsSupported() {
        XCTAssertTrue(SIMDLevel.baseline.isSupported)
        XCTAssertTrue(SIMDLevel.native.isSupported)
    }

    /// (N, C, H, W, groups): rows shorter than a vector, with remainders, and a group longer
    /// than one 512-float block of the sums.
    let shapes = [(2, 4, 3, 3, 2), (1, 8, 7, 7, 4), (3, 6, 16, 16, 3), (1, 32, 5, 1, 8)]

    func testGroupNormForwardAtEveryLevel() {
        for (index, (n, c, h, w, groups)) in shapes.enumerated() {
            let x = Tensor.randn([n, c, h, w], seed: UInt64(index)) * 3 + 1
            let weight = Tensor.randn([c], seed: 100 + UInt64(index)), bias = Tensor.randn([c], seed: 200 + UInt64(index))
            for silu in [false, true] {
                let expected = referenceGroupNorm(x, weight: weight, bias: bias, groups: groups, silu: silu)
                for level in levels {
                    let (out, _) = groupNormForward(x, weight: weight, bias: bias, groups: groups, eps: 1e-5, silu: silu, level: level)
                    assertClose(out, expected, atol: 2e-5, rtol: 1e-5, "\(level) silu \(silu) \(x.shape)")
                }
            }
        }
    }

    /// Backward at every level against central differences of the Double formula (on the small
    /// shapes: a debug build differentiates slowly).
    func testGroupNormBackwardAtEveryLevel() {
        for (index, (n, c, h, w, groups)) in shapes.enumerated() where n * c * h * w < 1000 {
            let x = Tensor.randn([n, c, h, w], seed: 300 + UInt64(index))
            let weight = Tensor.randn([c], seed: 400 + UInt64(index)), bias = Tensor.randn([c], seed: 500 + UInt64(index))
            let gradOut = Tensor.randn([n, c, h, w], seed: 600 + UInt64(index))
            for silu in [false, true] {
                let expected = finiteDifferenceGroupNorm(x, weight: weight, bias: bias, groups: groups, silu: silu, gradOut: gradOut)
                for level in levels {
                    let (_, statistics) = groupNormForward(x, weight: weight, bias: bias, groups: groups, eps: 1e-5, silu: silu, level: level)
                    let grads = groupNormBackward(x, weight: weight, gradOut: gradOut, groups: groups, statistics: statistics,
                                                  siluBias: silu ? bias : nil, level: level)
                    let name = "\(level) silu \(silu) \(x.shape)"
                    assertClose(grads.x, expected.x, atol: 2e-3, rtol: 2e-3, name + " dx")
                    assertClose(grads.weight, expected.weight, atol: 2e-3, rtol: 2e-3, name + " dw")
                    assertClose(grads.bias, expected.bias, atol: 2e-3, rtol: 2e-3, name + " db")
                }
            }
        }
    }

    /// SiLU forward and backward, vector lanes and scalar remainder alike, against the formula.
    func testSiLUAtEveryLevel() {
        let x = Tensor.randn([3, 37], seed: 7) * 6, gradOut = Tensor.randn([3, 37], seed: 8)
        for level in levels {
            let y = siluForward(x, level: level).scalars, gx = siluBackward(x, gradOut: gradOut, level: level).scalars
            for i in 0..<x.count {
                let v = Double(x.scalars[i]), s = 1 / (1 + exp(-v)), g = Double(gradOut.scalars[i])
                XCTAssertEqual(Double(y[i]), v * s, accuracy: 1e-6 * max(1, abs(v)), "\(level)")
                XCTAssertEqual(Double(gx[i]), g * s * (1 + v * (1 - s)), accuracy: 1e-6 * max(1, abs(v)), "\(level)")
            }
        }
    }

    /// Group norm (and its SiLU) in Double, straight from the definition.
    private func referenceGroupNorm(_ x: Tensor, weight: Tensor, bias: Tensor, groups: Int, silu: Bool) -> Tensor {
        let (n, c) = (x.shape[0], x.shape[1]), pixels = x.count / (n * c), perGroup = c / groups * pixels
        let values = x.scalars.map(Double.init), w = weight.scalars, b = bias.scalars
        var out = [Float](repeating: 0, count: x.count)
        for group in 0..<(n * groups) {
            let slice = values[group * perGroup ..< (group + 1) * perGroup]
            let mean = slice.reduce(0, +) / Double(perGroup)
            let variance = slice.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(perGroup)
            for i in group * perGroup ..< (group + 1) * perGroup {
                let channel = (i / pixels) % c
                let y = (values[i] - mean) / (variance + 1e-5).squareRoot() * Double(w[channel]) + Double(b[channel])
                out[i] = Float(silu ? y / (1 + exp(-y)) : y)
            }
        }
        return Tensor(shape: x.shape, out)
    }

    /// The gradients of sum(gradOut * groupNorm(x)) by central differences in Double.
    private func finiteDifferenceGroupNorm(_ x: Tensor, weight: Tensor, bias: Tensor, groups: Int, silu: Bool,
                                           gradOut: Tensor) -> (x: Tensor, weight: Tensor, bias: Tensor) {
        let g = gradOut.scalars.map(Double.init)
        func objective(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> Double {
            zip(referenceGroupNorm(x, weight: weight, bias: bias, groups: groups, silu: silu).scalars, g)
                .reduce(0) { $0 + Double($1.0) * $1.1 }
        }
        func gradient(_ tensor: Tensor, _ evaluate: (Tensor) -> Double) -> Tensor {
            let step: Float = 1e-2
            var values = tensor.scalars
            var result = [Float](repeating: 0, count: values.count)
            for i in values.indices {
                let original = values[i]
                values[i] = original + step
                let up = evaluate(Tensor(shape: tensor.shape, values))
                values[i] = original - step
                let down = evaluate(Tensor(shape: tensor.shape, values))
                values[i] = original
                result[i] = Float((up - down) / Double(2 * step))
            }
            return Tensor(shape: tensor.shape, result)
        }
        return (gradient(x) { objective($0, weight, bias) }, gradient(weight) { objective(x, $0, bias) },
                gradient(bias) { objective(x, weight, $0) })
    }
}
