import Foundation
import XCTest
@testable import NN

/// The folder of fixtures made by Tests/Fixtures/make_nn_fixtures.py.
let fixtureFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

/// A PyTorch-made fixture file from Tests/Fixtures/nn.
func fixture(_ name: String) throws -> SafeTensorsFile {
    try SafeTensors.read(from: fixtureFolder.appendingPathComponent("nn/\(name).safetensors"))
}

extension SafeTensorsFile {
    /// The tensor `case.name`, failing the test when it is missing.
    func tensor(_ testCase: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Tensor {
        try XCTUnwrap(self["\(testCase).\(name)"], "fixture has no \(testCase).\(name)", file: file, line: line)
    }
}

/// Asserts |actual - expected| <= atol + rtol |expected| elementwise, with equal shapes.
func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(message): shape \(actual.shape) vs expected \(expected.shape)", file: file, line: line)
        return
    }
    let a = actual.scalars, e = expected.scalars
    var worst = 0, worstExcess: Float = -.infinity
    for i in a.indices {
        let excess = abs(a[i] - e[i]) - (atol + rtol * abs(e[i]))
        if excess > worstExcess || a[i].isNaN { worstExcess = a[i].isNaN ? .infinity : excess; worst = i }
    }
    if worstExcess > 0 {
        XCTFail("\(message): element \(worst) is \(a[worst]), expected \(e[worst])", file: file, line: line)
    }
}

/// Checks the tape's gradients of `sum(f(inputs) * weights)` for random weights against central
/// finite differences, for every element of every input listed in `check`.
func assertGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], check: Set<Int>? = nil, step: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 1e-2,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Variable]) -> Variable
) {
    let checked = check ?? Set(inputs.indices)
    // Analytic gradients through the tape.
    let tape = Tape()
    let variables = inputs.enumerated().map { tape.input($0.element, requiresGradient: checked.contains($0.offset)) }
    let output = f(variables)
    let weights = Tensor.randn(output.shape, seed: 99)
    tape.backward(from: output, gradient: weights)

    /// sum(f(x) * weights) without a tape, in Double.
    func objective(_ values: [Tensor]) -> Double {
        let out = f(values.map { Variable($0) }).value
        return zip(out.scalars, weights.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    for index in checked.sorted() {
        guard let analytic = variables[index].gradient else {
            XCTFail("input \(index) received no gradient", file: file, line: line)
            continue
        }
        var numeric = [Float](repeating: 0, count: inputs[index].count)
        for element in numeric.indices {
            var plus = inputs, minus = inputs
            plus[index].withUnsafeMutableBufferPointer { $0[element] += step }
            minus[index].withUnsafeMutableBufferPointer { $0[element] -= step }
            numeric[element] = Float((objective(plus) - objective(minus)) / Double(2 * step))
        }
        assertClose(analytic, Tensor(shape: inputs[index].shape, numeric), atol: atol, rtol: rtol,
                    "gradient of input \(index)", file: file, line: line)
    }
}

/// A number from fixture metadata such as "stride=2,padding=1".
func metadataNumber(_ text: String?, _ key: String) -> Double? {
    guard let text else { return nil }
    for pair in text.split(separator: ",") {
        let parts = pair.split(separator: "=")
        if parts.count == 2 && parts[0] == key { return Double(parts[1]) }
    }
    return nil
}

func metadataValue(_ text: String?, _ key: String) -> Int? { metadataNumber(text, key).map { Int($0) } }
