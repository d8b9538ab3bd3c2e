import NN
import XCTest

/// Asserts |actual - expected| <= atol + rtol |expected| elementwise, with equal shapes.
func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        XCTFail("\(message): shape \(actual.shape) vs expected \(expected.shape)", file: file, line: line)
        return
    }
    let a = actual.scalars, e = expected.scalars
    for i in a.indices where !(abs(a[i] - e[i]) <= atol + rtol * abs(e[i])) {
        XCTFail("\(message): element \(i) is \(a[i]), expected \(e[i])", file: file, line: line)
        return
    }
}
