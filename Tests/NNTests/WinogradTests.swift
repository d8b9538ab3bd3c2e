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
                // the tile transforms at every instruction-set level this CPU runs
                for level in SIMDLevel.allCases where level.isSupported {
                    let actual = winogradConv2d(x, filter: filter, bias: bias, tiling: tiling, level: level)
                    assertMatches(actual, expected, tiling, "\(tiling) forward \(x.shape) -> \(cout), \(level)")
                    errors.add(actual, expected)
                }
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

    private func weightGradientMatchesIm2col<Tiling: WinogradTiling>(_ tiling: Tiling.Type) -> Errors {
        var errors = Errors()
        for (index, (n, cin, cout, h, w)) in shapes.enumerated() {
            let seed = UInt64(10 * index)
            let x = Tensor.randn([n, cin, h, w], seed: seed), weight = Tensor.randn([cout, cin, 3, 3], seed: seed + 1)
            let gradOut = Tensor.randn([n, cout, h, w], seed: seed + 3)
            let expected = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                          needInputGradient: false, algorithm: .im2col)
            let actual = winogradWeightGradient(x, gradOut: gradOut, tiling: tiling)
            assertMatches(actual.weight, expected.weight, tiling, "\(tiling) weight gradient \(x.shape) -> \(cout)")
            assertClose(actual.bias, expected.bias, atol: 1e-4, rtol: 1e-5, "\(tiling) bias gradient \(x.shape)")
            errors.add(actual.weight, expected.weight)
        }
        return errors
    }

    private func report<Tiling: WinogradTiling>(_ tiling: Tiling.Type) {
        let forward = forwardMatchesIm2col(tiling), input = inputGradientMatchesIm2col(tiling)
        let weight = weightGradientMatchesIm2col(tiling)
        print("\(tiling) vs im2col, max abs error (relative to max |im2col|): forward \(forward.absolute) "
              + "(\(forward.relative)), input gradient \(input.absolute) (\(input.relative)), "
              + "weight gradient \(weight.absolute) (\(weight.relative))")
    }

    func testF2MatchesIm2col() { report(WinogradF2.self) }

    func testF4MatchesIm2col() { report(WinogradF4.self) }

    func testBackwardChoosesPerGradient() {
        // Cout = 4 < 8: the input gradient's convolution stays on im2col, and so the weight
        // gradient, computed alongside it; without the input gradient both go by Winograd.
        let x = Tensor.randn([3, 12, 10, 9], seed: 1), weight = Tensor.randn([4, 12, 3, 3], seed: 2)
        let gradOut = Tensor.randn([3, 4, 10, 9], seed: 3)
        let im2col = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                    needInputGradient: true, algorithm: .im2col)
        let automatic = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                       needInputGradient: true, algorithm: .automatic)
        assertClose(automatic.x!, im2col.x!, atol: 0, rtol: 0, "input gradient")
        assertClose(automatic.weight, im2col.weight, atol: 0, rtol: 0, "weight gradient")
        let weightOnly = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                        needInputGradient: false, algorithm: .automatic)
        XCTAssertNil(weightOnly.x)
        assertMatches(weightOnly.weight, im2col.weight, WinogradF4.self, "weight gradient by Winograd")
    }

    func testConv2dMatchesPyTorchByWinograd() throws {
        // The fixture's 3x3, stride-1, padding-1 case through conv2d's Winograd paths, at the
        // fixtures' usual tolerance.
        let file = try fixture("conv2d")
        let tensor = { (name: String) in try file.tensor("s1p1", name) }
        let (x, weight, bias, gradOut) = (try tensor("x"), try tensor("weight"), try tensor("bias"), try tensor("grad_out"))
        for algorithm in [Conv2dAlgorithm.winograd2x2, .winograd4x4] {
            let out = conv2dForward(x, weight: weight, bias: bias, stride: 1, padding: 1, algorithm: algorithm)
            let grads = conv2dBackward(x, weight: weight, gradOut: gradOut, stride: 1, padding: 1,
                                       needInputGradient: true, algorithm: algorithm)
            var errors = [String: Errors]()
            for (name, actual) in [("out", out), ("grad_x", grads.x!), ("grad_weight", grads.weight), ("grad_bias", grads.bias)] {
                let expected = try tensor(name)
                assertClose(actual, expected, "\(algorithm) \(name)")
                errors[name, default: Errors()].add(actual, expected)
            }
            print("\(algorithm) vs PyTorch s1p1, max abs error (relative to max |PyTorch|): "
                  + errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.absolute) (\($0.value.relative))" }
                      .joined(separator: ", "))
        }
    }

    func testAutomaticChoice() {
        let wide = Conv2dGeometry(input: [64, 64, 16, 16], weight: [64, 64, 3, 3], stride: 1, padding: 1)
        XCTAssertEqual(Conv2dAlgorithm.automatic.winogradTileSize(wide), 4)
        XCTAssertNil(Conv2dAlgorithm.im2col.winogradTileSize(wide))
        XCTAssertEqual(Conv2dAlgorithm.winograd2x2.winogradTileSize(wide), 2)
        let narrow = Conv2dGeometry(input: [64, 3, 16, 16], weight: [64, 3, 3, 3], stride: 1, padding: 1)
        XCTAssertNil(Conv2dAlgorithm.automatic.winogradTileSize(narrow))
        for (weight, stride, padding) in [([64, 64, 3, 3], 2, 1), ([64, 64, 1, 1], 1, 0), ([64, 64, 3, 3], 1, 0)] {
            let g = Conv2dGeometry(input: [64, 64, 16, 16], weight: weight, stride: stride, padding: padding)
            XCTAssertNil(Conv2dAlgorithm.winograd4x4.winogradTileSize(g))
        }
    }
}
