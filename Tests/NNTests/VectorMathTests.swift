import Foundation
import XCTest
@testable import NN

/// The C kernels' exponential, sums and SiLU at every instruction-set level this CPU runs.
final class VectorMathTests: XCTestCase {
    var levels: [SIMDLevel] { SIMDLevel.allCases.filter(\.isSupported) }

    private func exp(_ values: [Float], _ level: SIMDLevel) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        level.kernels.exp(values, &out, values.count)
        return out
    }

    /// The vector e^x against libm's expf over its whole finite range, in ulps of the result.
    func testExpMatchesExpfWithinTwoUlps() {
        var xs: [Float] = []
        var x: Float = -87
        while x < 88.5 {
            xs.append(x)
            x += 0.0071
        }
        for level in levels {
            let worst = zip(xs, exp(xs, level)).map { x, got in abs(got - expf(x)) / expf(x).ulp }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 2, "\(level)")
        }
    }

    /// Past expf's finite range the vector e^x saturates instead of reaching 0 or infinity; a
    /// count that fills no whole vector takes the same path.
    func testExpSaturates() {
        for level in levels {
            let got = exp([-200, -88, -87.3, 0, 1, 88.7, 89, .infinity, 0.5], level)
            XCTAssertLessThan(got[0], 1e-37)
            XCTAssertGreaterThan(got[0], 0)
            XCTAssertEqual(got[1], got[0])
            XCTAssertEqual(got[2], expf(-87.3), accuracy: expf(-87.3) * 1e-6)
            XCTAssertEqual(got[3], 1)
            XCTAssertEqual(got[4], expf(1), accuracy: 2 * expf(1).ulp)
            XCTAssertEqual(got[5], expf(88.7), accuracy: expf(88.7) * 1e-6)
            XCTAssertGreaterThan(got[6], 3e38)
            XCTAssertTrue(got[6].isFinite)
            XCTAssertEqual(got[7], got[6])
            XCTAssertEqual(got[8], expf(0.5), accuracy: 2 * expf(0.5).ulp)
            // the sigmoid at the extremes, through the SiLU: silu(200) = 200, silu(-200) ~ 0
            let silu = siluForward(Tensor(shape: [2], [200, -200]), level: level).scalars
            XCTAssertEqual(silu[0], 200)
            XCTAssertLessThan(abs(silu[1]), 1e-34)
        }
    }

    /// Block sums stay near Float's rounding of the result on long sums: the mean of a group of
    /// 100,003 values.
    func testSumIsAccurateOnLongSums() {
        let values = (0..<100_003).map { Float(($0 % 7) + 1) * 0.1 }
        let exact = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let x = Tensor(shape: [1, 1, values.count], values)
        for level in levels {
            let (_, statistics) = groupNormForward(x, weight: .ones([1]), bias: .zeros([1]), groups: 1, eps: 1e-5, level: level)
            XCTAssertEqual(Double(statistics.mean[0]), exact, accuracy: exact * 5e-7, "\(level)")
        }
    }

    func testSoftmaxAtEveryLevel() {
        let x = Tensor.randn([5, 13], seed: 9) * 4
        for level in levels {
            let y = softmaxForward(x, level: level).scalars
            for row in 0..<5 {
                let values = (0..<13).map { Double(x.scalars[row * 13 + $0]) }
                let total = values.map { Foundation.exp($0) }.reduce(0, +)
                for i in 0..<13 {
                    XCTAssertEqual(Double(y[row * 13 + i]), Foundation.exp(values[i]) / total, accuracy: 1e-6, "\(level)")
                }
            }
        }
    }
}
