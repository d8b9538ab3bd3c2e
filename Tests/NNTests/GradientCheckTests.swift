import XCTest
@testable import NN

/// Every op's backward against central finite differences of its forward.
final class GradientCheckTests: XCTestCase {
    func testConv2d() {
        for (stride, padding, kernel) in [(1, 1, 3), (2, 1, 3), (1, 0, 3), (2, 0, 3), (1, 0, 1), (2, 0, 1)] {
            let inputs = [Tensor.randn([2, 3, 5, 5], seed: 1), Tensor.randn([2, 3, kernel, kernel], seed: 2),
                          Tensor.randn([2], seed: 3)]
            assertGradientsMatchFiniteDifferences(inputs) {
                conv2d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding)
            }
        }
    }

    func testGroupNorm() {
        let inputs = [Tensor.randn([2, 4, 3, 3], seed: 4), Tensor.randn([4], seed: 5) + 1, Tensor.randn([4], seed: 6)]
        assertGradientsMatchFiniteDifferences(inputs) { groupNorm($0[0], weight: $0[1], bias: $0[2], groups: 2) }
    }

    /// The fused op on 11 pixels a channel, so both its SIMD lanes and its scalar remainder are checked.
    func testGroupNormSiLU() {
        let inputs = [Tensor.randn([2, 4, 11, 1], seed: 7), Tensor.randn([4], seed: 8) + 1, Tensor.randn([4], seed: 9)]
        assertGradientsMatchFiniteDifferences(inputs) { groupNormSiLU($0[0], weight: $0[1], bias: $0[2], groups: 2) }
    }

    /// Fused and unfused give the same values and gradients.
    func testGroupNormSiLUEqualsItsParts() {
        let x = Variable.parameter(Tensor.randn([3, 6, 5, 4], seed: 10) * 2)
        let weight = Variable.parameter(Tensor.randn([6], seed: 11) + 1), bias = Variable.parameter(Tensor.randn([6], seed: 12))
        let gradOut = Tensor.randn([3, 6, 5, 4], seed: 13)
        func run(_ f: () -> Variable) -> [Tensor] {
            let tape = Tape(watching: [x, weight, bias])
            let y = f()
            tape.backward(from: y, gradient: gradOut)
            defer { for v in [x, weight, bias] { v.gradient = nil } }
            return [y.value] + [x, weight, bias].map { $0.gradient! }
        }
        let fused = run { groupNormSiLU(x, weight: weight, bias: bias, groups: 3) }
        let parts = run { silu(groupNorm(x, weight: weight, bias: bias, groups: 3)) }
        for (name, (a, b)) in zip(["value", "x", "weight", "bias"], zip(fused, parts)) {
            assertClose(a, b, atol: 1e-5, rtol: 1e-5, name)
        }
    }

    func testLinearAndMatmul() {
        assertGradientsMatchFiniteDifferences([.randn([3, 4], seed: 7), .randn([5, 4], seed: 8), .randn([5], seed: 9)]) {
            linear($0[0], weight: $0[1], bias: $0[2])
        }
        assertGradientsMatchFiniteDifferences([.randn([3, 4], seed: 10), .randn([4, 2], seed: 11)]) { matmul($0[0], $0[1]) }
    }

    func testSiLUSoftmaxUpsample() {
        assertGradientsMatchFiniteDifferences([.randn([2, 3, 2, 2], seed: 12) * 2]) { silu($0[0]) }
        assertGradientsMatchFiniteDifferences([.randn([3, 5], seed: 13)]) { softmax($0[0]) }
        assertGradientsMatchFiniteDifferences([.randn([2, 2, 2, 3], seed: 14)]) { upsampleNearest2x($0[0]) }
    }

    func testAttention() {
        let inputs = [Tensor.randn([2, 5, 4], seed: 15), .randn([2, 5, 4], seed: 16), .randn([2, 5, 4], seed: 17)]
        assertGradientsMatchFiniteDifferences(inputs) { attention(query: $0[0], key: $0[1], value: $0[2], heads: 2) }
    }

    func testConcatAndBroadcastArithmetic() {
        assertGradientsMatchFiniteDifferences([.randn([2, 2, 2, 2], seed: 18), .randn([2, 3, 2, 2], seed: 19)]) {
            concatChannels([$0[0], $0[1]])
        }
        // (N, C, H, W) with a per-channel (N, C, 1, 1) term, as the time embedding is added.
        assertGradientsMatchFiniteDifferences([.randn([2, 3, 2, 2], seed: 20), .randn([2, 3, 1, 1], seed: 21)]) {
            $0[0] + $0[1]
        }
        assertGradientsMatchFiniteDifferences([.randn([2, 3, 2, 2], seed: 22), .randn([3, 1, 1], seed: 23)]) {
            $0[0] * $0[1]
        }
        assertGradientsMatchFiniteDifferences([.randn([4, 3], seed: 24), .randn([3], seed: 25)]) { $0[0] - $0[1] }
    }

    func testShapeOpsAndLosses() {
        assertGradientsMatchFiniteDifferences([.randn([2, 3, 4], seed: 26)]) { $0[0].permuted([0, 2, 1]).reshaped([2, 12]) * 3 }
        let target = Tensor.randn([2, 3], seed: 27)
        assertGradientsMatchFiniteDifferences([.randn([2, 3], seed: 28)]) { mseLoss($0[0], target: target) }
        assertGradientsMatchFiniteDifferences([.randn([2, 3], seed: 33)]) { mseLoss($0[0], target: target, sampleWeights: [0.5, 2]) }
        assertGradientsMatchFiniteDifferences([.randn([3, 4], seed: 29)]) { crossEntropyLoss($0[0], labels: [0, 3, 1]) }
        assertGradientsMatchFiniteDifferences([.randn([3, 4], seed: 30)]) { $0[0].mean() }
    }

    func testPaddingAndEmbedding() {
        assertGradientsMatchFiniteDifferences([.randn([2, 2, 3, 3], seed: 31)]) { zeroPad($0[0], left: 0, right: 1, top: 2, bottom: 1) }
        assertGradientsMatchFiniteDifferences([.randn([4, 3], seed: 32)]) { embedding($0[0], indices: [2, 0, 2]) }
        assertGradientsMatchFiniteDifferences([.randn([2, 3, 2, 3], seed: 34)]) { globalAveragePool($0[0]) }
    }
}
