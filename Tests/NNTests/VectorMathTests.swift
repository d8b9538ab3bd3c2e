import Foundation
import XCTest
@testable import NN

final class VectorMathTests: XCTestCase {
    /// The SIMD e^x against libm's expf over its whole finite range, in ulps of the result.
    func testExpMatchesExpfWithinTwoUlps() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88.5 {
            let lanes = Float8((0..<8).map { x + Float($0) * 0.0013 })
            let got = exp(lanes)
            for lane in 0..<8 {
                let expected = expf(lanes[lane])
                worst = max(worst, abs(got[lane] - expected) / expected.ulp)
            }
            x += 0.0371
        }
        XCTAssertLessThanOrEqual(worst, 2)
    }

    /// Past expf's finite range the SIMD e^x saturates instead of reaching 0 or infinity.
    func testExpSaturates() {
        let got = exp(Float8(-200, -88, -87.3, 0, 1, 88.7, 89, .infinity))
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
        // the sigmoid at the extremes
        XCTAssertEqual(sigmoid(Float8(repeating: 200))[0], 1)
        XCTAssertLessThan(sigmoid(Float8(repeating: -200))[0], 1e-37)
    }

    /// Block sums stay near Float's rounding of the result on long sums.
    func testSumIsAccurateOnLongSums() {
        let values = (0..<100_003).map { Float(($0 % 7) + 1) * 0.1 }
        let exact = values.reduce(0.0) { $0 + Double($1) }
        let got = values.withUnsafeBufferPointer { sum($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(got, exact, accuracy: exact * 5e-7)
    }

    /// SiLU forward and backward, SIMD lanes and scalar remainder alike, against the formula in Double.
    func testSiLUMatchesTheFormula() {
        let x = Tensor.randn([3, 37], seed: 5) * 6
        let gradOut = Tensor.randn([3, 37], seed: 6)
        let y = siluForward(x), gx = siluBackward(x, gradOut: gradOut)
        for i in 0..<x.count {
            let v = Double(x.scalars[i]), s = 1 / (1 + Foundation.exp(-v))
            XCTAssertEqual(Double(y.scalars[i]), v * s, accuracy: 1e-6 * max(1, abs(v)))
            XCTAssertEqual(Double(gx.scalars[i]), Double(gradOut.scalars[i]) * s * (1 + v * (1 - s)), accuracy: 1e-6 * max(1, abs(v)))
        }
    }
}
