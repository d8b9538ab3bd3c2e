import XCTest
@testable import NN

/// A sample's output does not depend on the batch it came in: the same bits for batches of 1, 2,
/// 3, 5 and 17 (OpenBLAS's result for a row or column changes with the GEMM's shape, so no GEMM
/// may span two samples).
final class BatchInvarianceTests: XCTestCase {
    private func assertSampleZeroUnchanged(_ name: String, shape: [Int], _ op: (Tensor) -> Tensor) {
        let size = shape.reduce(1, *)
        let alone = op(Tensor(shape: [1] + shape, Array(Tensor.randn([17] + shape, seed: 1).scalars[0..<size])))
        for batch in [2, 3, 5, 17] {
            let x = Tensor(shape: [batch] + shape, Array(Tensor.randn([17] + shape, seed: 1).scalars[0..<(batch * size)]))
            let first = Array(op(x).scalars[0..<alone.count])
            XCTAssertEqual(first, alone.scalars, "\(name), batch \(batch)")
        }
    }

    func testConvolutionsAndLinearLayers() {
        let w3 = Tensor.randn([16, 16, 3, 3], seed: 2), w1 = Tensor.randn([16, 16, 1, 1], seed: 3)
        let wl = Tensor.randn([24, 16], seed: 4), bias = Tensor.randn([16], seed: 5)
        for size in [7, 8, 14, 16] {
            let shape = [16, size, size]
            assertSampleZeroUnchanged("winograd \(size)", shape: shape) { conv2dForward($0, weight: w3, bias: bias, stride: 1, padding: 1) }
            assertSampleZeroUnchanged("im2col \(size)", shape: shape) {
                conv2dForward($0, weight: w3, bias: bias, stride: 1, padding: 1, algorithm: .im2col)
            }
            assertSampleZeroUnchanged("1x1 \(size)", shape: shape) { conv2dForward($0, weight: w1, bias: nil, stride: 1, padding: 0) }
            assertSampleZeroUnchanged("stride 2 \(size)", shape: shape) { conv2dForward($0, weight: w3, bias: nil, stride: 2, padding: 1) }
        }
        assertSampleZeroUnchanged("linear", shape: [16]) { linearForward($0, weight: wl, bias: nil) }
        assertSampleZeroUnchanged("linear over tokens", shape: [49, 16]) { linearForward($0, weight: wl, bias: Tensor.randn([24], seed: 6)) }
    }
}
