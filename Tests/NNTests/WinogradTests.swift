import XCTest
@testable import NN

/// Winograd convolution (3x3, stride 1, padding 1) against the im2col path and PyTorch.
final class WinogradTests: XCTestCase {
    /// (N, Cin, Cout, H, W): odd and even sizes, sizes below one tile, 1 and many images, and
    /// batches that split into several chunks.
    private let shapes: [(Int, Int, Int, Int, Int)] = [
        (1, 1, 1, 1, 1), (1, 1, 3, 2, 3), (2, 3, 4, 7, 7), (1, 5, 2, 5, 9), (3, 8, 16, 14, 14),
        (4, 16, 8, 28, 28), (1, 32, 32, 32, 32), (64, 16, 16, 8, 8), (40, 8, 8, 7, 7), (2, 128, 64, 9, 6),
        (2, 64, 128, 16, 16), (5, 3, 1, 13, 11),
    ]

    /// The largest |winograd - reference| and that error over max |reference|, over all shapes.
    private struct Errors {
        var absolute: Float = 0, relative: Float = 0
        mutating func add(_ actual: Tensor, _ expected: Tensor) {
            let a = actual.scalars, e = expected.scalars
            let scale = e.map(abs).max() ?? 0
            let worst = zip(a, e).map { abs($0 - $1) }.max() ?? 0
            absolute = max(absolute, worst)
            relative = max(relative, worst / max(scale, .leastNormalMagnitude))
        }
    }

    /// The error bound relative to max |reference| (F(4x4,3x3) has larger Float32 rounding).
    private func tolerance<Tiling: WinogradTiling>(_ tiling: Tiling.Type) -> Float {
        Tiling.outputSize == 2 ? 3e-6 : 3e-5
    }

    private func assertMatches<Tiling: WinogradTiling>(_ actual: Tensor, _ expected: Tensor, _ tiling: Tiling.Type,
                                                       _ message: String, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, message, line: line)
        let scale = expected.scalars.map(abs).max() ?? 0
        assertClose(actual, expected, atol: tolerance(tiling) * max(scale, 1), rtol: 0, message, line: line)
    }

    private func forwardMatchesIm2col<Tiling: WinogradTiling>(_ tiling: Tiling.Type) -> Errors {
        var errors = Errors()
        for (index, (n, cin, cout, h, w)) in shapes.enumerated() {
            let seed = UInt64(10 * index)
            let x = Tensor.randn([n, cin, h, w], seed: seed), weight = Tensor.randn([cout, cin, 3, 3], seed: seed + 1)
            for bias in [nil, Tensor.randn([cout], seed: seed + 2)] {
                let expected = conv2dForward(x, weight: weight, bias: bias, stride: 1, padding: 1, algorithm: .im2col)
                let filter = winogradFilter(weight, forInputGradient: false, tiling: tiling)
                let actual = winogradConv2d(x, filter: filter, bias: bias, tiling: tiling)
                assertMatches(actual, expected, tiling, "\(tiling) forward \(x.shape) -> \(cout)")
                errors.add(actual, expected)
            }
        }
        return errors
    }

    private func inputGradientMatchesIm2col<Tiling: WinogradTiling>(_ tiling: Tiling.Type) -> Errors {
        var errors = Errors()
        for (index, (n, cin, cout, h, w)) in shapes.enumerated() {
            let seed = UInt64(10 * index)
            let x = Tensor.randn([n, cin, h, w], seed: seed), weight = Tensor.randn([cout, cin, 3, 3], seed: seed + 1)
            let gradOut = Tensor.randn([n, cout, h, w], seed: seed + 3)
            let expected = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                          needInputGradient: true, algorithm: .im2col).x!
            let filter = winogradFilter(weight, forInputGradient: true, tiling: tiling)
            let actual = winogradConv2d(gradOut, filter: filter, bias: nil, tiling: tiling)
            assertMatches(actual, expected, tiling, "\(tiling) input gradient \(x.shape) -> \(cout)")
            errors.add(actual, expected)
        }
        return errors
    }

    func testF2MatchesIm2col() {
        let forward = forwardMatchesIm2col(WinogradF2.self), backward = inputGradientMatchesIm2col(WinogradF2.self)
        print("F(2x2,3x3) vs im2col: forward max abs \(forward.absolute), relative \(forward.relative); "
              + "input gradient max abs \(backward.absolute), relative \(backward.relative)")
    }

    func testF4MatchesIm2col() {
        let forward = forwardMatchesIm2col(WinogradF4.self), backward = inputGradientMatchesIm2col(WinogradF4.self)
        print("F(4x4,3x3) vs im2col: forward max abs \(forward.absolute), relative \(forward.relative); "
              + "input gradient max abs \(backward.absolute), relative \(backward.relative)")
    }

    func testBackwardMatchesIm2col() {
        // Weight and bias gradients stay on im2col; the input gradient switches to Winograd.
        let x = Tensor.randn([3, 12, 10, 9], seed: 1), weight = Tensor.randn([20, 12, 3, 3], seed: 2)
        let gradOut = Tensor.randn([3, 20, 10, 9], seed: 3)
        let winograd = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                      needInputGradient: true, algorithm: .winograd)
        let im2col = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                    needInputGradient: true, algorithm: .im2col)
        assertClose(winograd.x!, im2col.x!, atol: 1e-4, rtol: 1e-4, "input gradient")
        assertClose(winograd.weight, im2col.weight, atol: 0, rtol: 0, "weight gradient")
        assertClose(winograd.bias, im2col.bias, atol: 0, rtol: 0, "bias gradient")
        XCTAssertNil(conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                    needInputGradient: false, algorithm: .winograd).x)
    }

    func testConv2dMatchesPyTorchByWinograd() throws {
        // The fixture's 3x3, stride-1, padding-1 case, by both tile sizes and by conv2d's path.
        let file = try fixture("conv2d")
        let (x, weight, bias) = (try file.tensor("s1p1", "x"), try file.tensor("s1p1", "weight"), try file.tensor("s1p1", "bias"))
        let (expectedOut, gradOut) = (try file.tensor("s1p1", "out"), try file.tensor("s1p1", "grad_out"))
        let expectedGradient = try file.tensor("s1p1", "grad_x")
        func check<Tiling: WinogradTiling>(_ tiling: Tiling.Type) {
            let out = winogradConv2d(x, filter: winogradFilter(weight, forInputGradient: false, tiling: tiling),
                                     bias: bias, tiling: tiling)
            let gx = winogradConv2d(gradOut, filter: winogradFilter(weight, forInputGradient: true, tiling: tiling),
                                    bias: nil, tiling: tiling)
            assertClose(out, expectedOut, "\(tiling) out")
            assertClose(gx, expectedGradient, "\(tiling) grad_x")
            var outErrors = Errors(), gradientErrors = Errors()
            outErrors.add(out, expectedOut)
            gradientErrors.add(gx, expectedGradient)
            print("\(tiling) vs PyTorch s1p1: out max abs \(outErrors.absolute), relative \(outErrors.relative); "
                  + "grad_x max abs \(gradientErrors.absolute), relative \(gradientErrors.relative)")
        }
        check(WinogradF2.self)
        check(WinogradF4.self)
        let out = conv2dForward(x, weight: weight, bias: bias, stride: 1, padding: 1, algorithm: .winograd)
        let grads = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                   needInputGradient: true, algorithm: .winograd)
        assertClose(out, expectedOut, "conv2d out")
        assertClose(grads.x!, expectedGradient, "conv2d grad_x")
    }

    func testAutomaticChoice() {
        let algorithm = Conv2dAlgorithm.automatic
        let wide = Conv2dGeometry(input: [64, 64, 16, 16], weight: [64, 64, 3, 3], stride: 1, padding: 1)
        XCTAssertTrue(algorithm.usesWinograd(wide))
        XCTAssertFalse(algorithm.usesWinograd(Conv2dGeometry(input: [64, 64, 16, 16], weight: [64, 64, 3, 3], stride: 2, padding: 1)))
        XCTAssertFalse(algorithm.usesWinograd(Conv2dGeometry(input: [64, 64, 16, 16], weight: [64, 64, 1, 1], stride: 1, padding: 0)))
        XCTAssertFalse(Conv2dAlgorithm.im2col.usesWinograd(wide))
    }
}
