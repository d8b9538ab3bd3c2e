import XCTest
@testable import NN

/// Forward and backward of every op against PyTorch (Tests/Fixtures/make_nn_fixtures.py).
final class OpFixtureTests: XCTestCase {
    /// Runs `forward` on taped copies of the fixture's inputs, back-propagates the fixture's
    /// grad_out, and compares the output and each input's gradient with PyTorch's.
    private func check(_ file: SafeTensorsFile, _ testCase: String, inputs: [String],
                       atol: Float = 1e-5, rtol: Float = 1e-4,
                       _ forward: ([Variable]) -> Variable) throws {
        let tape = Tape()
        let variables = try inputs.map { tape.input(try file.tensor(testCase, $0), requiresGradient: true) }
        let out = forward(variables)
        assertClose(out.value, try file.tensor(testCase, "out"), atol: atol, rtol: rtol, "\(testCase) out")
        tape.backward(from: out, gradient: try file.tensor(testCase, "grad_out"))
        for (name, variable) in zip(inputs, variables) {
            let gradient = try XCTUnwrap(variable.gradient, "\(testCase): no gradient for \(name)")
            assertClose(gradient, try file.tensor(testCase, "grad_\(name)"), atol: atol, rtol: rtol, "\(testCase) grad_\(name)")
        }
    }

    func testConv2dMatchesPyTorch() throws {
        let file = try fixture("conv2d")
        for testCase in ["s1p1", "s2p1", "s1p0", "s2p0", "k1", "k5"] {
            let stride = try XCTUnwrap(metadataValue(file.metadata[testCase], "stride"))
            let padding = try XCTUnwrap(metadataValue(file.metadata[testCase], "padding"))
            try check(file, testCase, inputs: ["x", "weight", "bias"]) {
                conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding)
            }
        }
    }

    func testGroupNormMatchesPyTorch() throws {
        let file = try fixture("group_norm")
        for testCase in ["g3", "g1", "g8"] {
            let groups = try XCTUnwrap(metadataValue(file.metadata[testCase], "groups"))
            try check(file, testCase, inputs: ["x", "weight", "bias"], atol: 1e-4) {
                groupNorm($0[0], weight: $0[1], bias: $0[2], groups: groups, eps: 1e-5)
            }
        }
    }

    func testLinearMatchesPyTorch() throws {
        let file = try fixture("linear")
        for testCase in ["a", "b"] {
            try check(file, testCase, inputs: ["x", "weight", "bias"]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        }
    }

    func testSiLUMatchesPyTorch() throws {
        try check(try fixture("silu"), "a", inputs: ["x"]) { silu($0[0]) }
    }

    func testUpsampleMatchesPyTorch() throws {
        try check(try fixture("upsample"), "a", inputs: ["x"]) { upsampleNearest2x($0[0]) }
    }

    func testSoftmaxMatchesPyTorch() throws {
        try check(try fixture("softmax"), "a", inputs: ["x"]) { softmax($0[0]) }
    }

    func testAttentionMatchesPyTorch() throws {
        let file = try fixture("attention")
        for testCase in ["h2", "h1"] {
            let heads = try XCTUnwrap(metadataValue(file.metadata[testCase], "heads"))
            try check(file, testCase, inputs: ["q", "k", "v"]) {
                attention(query: $0[0], key: $0[1], value: $0[2], heads: heads)
            }
        }
    }

    func testCrossEntropyMatchesPyTorch() throws {
        let file = try fixture("cross_entropy")
        let labels = try file.tensor("a", "labels").scalars.map { Int($0) }
        let tape = Tape()
        let logits = tape.input(try file.tensor("a", "logits"), requiresGradient: true)
        let loss = crossEntropyLoss(logits, labels: labels)
        XCTAssertEqual(loss.value.item, try file.tensor("a", "loss").item, accuracy: 1e-5)
        tape.backward(from: loss)
        assertClose(try XCTUnwrap(logits.gradient), try file.tensor("a", "grad_logits"))
    }

    func testMSEMatchesPyTorch() throws {
        let file = try fixture("mse")
        let tape = Tape()
        let x = tape.input(try file.tensor("a", "x"), requiresGradient: true)
        let loss = mseLoss(x, target: try file.tensor("a", "target"))
        XCTAssertEqual(loss.value.item, try file.tensor("a", "loss").item, accuracy: 1e-5)
        tape.backward(from: loss)
        assertClose(try XCTUnwrap(x.gradient), try file.tensor("a", "grad_x"))
    }
}
