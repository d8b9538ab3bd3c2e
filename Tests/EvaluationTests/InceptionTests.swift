import Foundation
import NN
import XCTest
@testable import Evaluation

/// pytorch-fid's FID Inception, rebuilt here, against pytorch-fid itself: the same deterministic
/// weights on both sides (Tests/Fixtures/make_inception_fixtures.py has the formula), features
/// equal to 1e-4 relative; the two resizes against torch's interpolate and clean-fid's.
final class InceptionTests: XCTestCase {
    private static let folder = MetricsFixtures.folder

    /// The fixture script's value stream of `key`: SplitMix64's finalizer over FNV-1a(key) +
    /// (i + 1) x golden ratio, top 24 bits as a number in [-1, 1).
    static func formula(_ key: String, count: Int) -> [Double] {
        var seed: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 { seed = (seed ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return (0..<count).map { i in
            var z = seed &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 40) / 16_777_216 * 2 - 1
        }
    }

    /// Every tensor of the network, from the formula.
    static let weights: [String: Tensor] = {
        var weights: [String: Tensor] = [:]
        for unit in FIDInception.units {
            let o = unit.outChannels
            let shape = [o, unit.inChannels, unit.kernelHeight, unit.kernelWidth]
            let fanIn = Double(unit.inChannels * unit.kernelHeight * unit.kernelWidth)
            func tensor(_ suffix: String, _ shape: [Int], _ value: (Double) -> Double) {
                let key = "\(unit.name).\(suffix)"
                weights[key] = Tensor(shape: shape, formula(key, count: shape.reduce(1, *)).map { Float(value($0)) })
            }
            tensor("conv.weight", shape) { $0 * (6 / fanIn).squareRoot() }
            tensor("bn.weight", [o]) { 1 + 0.2 * $0 }
            tensor("bn.bias", [o]) { 0.2 * $0 }
            tensor("bn.running_mean", [o]) { 0.1 * $0 }
            tensor("bn.running_var", [o]) { 1 + 0.25 * $0 }
        }
        return weights
    }()

    private func fixture(_ name: String) throws -> NpyArray { try Npy.read(from: Self.folder.appendingPathComponent(name)) }

    /// |actual - expected| <= 1e-4 (|expected| + the mean |expected|), element by element.
    private func assertFeaturesClose(_ actual: [Float], _ expected: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        let scale = expected.map(abs).reduce(0, +) / Double(max(1, expected.count))
        var worst = 0.0
        for (a, e) in zip(actual, expected) { worst = max(worst, abs(Double(a) - e) / (abs(e) + scale)) }
        print("FID Inception vs pytorch-fid: largest |difference| / (|pytorch-fid| + mean |pytorch-fid|) \(worst)")
        XCTAssertLessThan(worst, 1e-4, "largest relative difference", file: file, line: line)
    }

    func testFormulaMatchesTheFixtureScript() {
        XCTAssertEqual(Self.formula("Conv2d_1a_3x3.conv.weight", count: 3), [-0.32240772247314453, 0.25757598876953125, -0.6462255716323853])
        XCTAssertEqual(FIDInception.units.count, 94)
        XCTAssertEqual(Self.weights.values.map(\.count).reduce(0, +), 21_820_000, "pytorch-fid's 470 tensors, fc and counters left out")
    }

    func testFeaturesMatchPytorchFIDAt75() throws {
        let network = try FIDInception(weights: Self.weights, path: "formula")
        let images = Tensor(shape: [2, 3, 75, 75], Self.formula("images75", count: 2 * 3 * 75 * 75).map { Float(($0 + 1) / 2) * 2 - 1 })
        let expected = try fixture("inception_features_75.npy")
        XCTAssertEqual(expected.shape, [2, 2048])
        assertFeaturesClose(network.features(images).scalars, expected.doubles)
    }

    /// A gray 28 x 28 image through the whole extractor: gray to RGB, pytorch-fid's resize to
    /// 299, the network.
    func testGrayImageResizedAsPytorchFID() throws {
        let extractor = try InceptionExtractor(weights: Self.weights, name: "formula", path: "formula", resolution: 28,
                                               channels: 1, resize: .pytorchFID)
        let levels = Self.formula("image28", count: 28 * 28).map { (($0 + 1) / 2 * 255).rounded() }
        let image = Tensor(shape: [1, 1, 28, 28], levels.map { Float($0) / 127.5 - 1 })
        assertFeaturesClose(extractor.features(image).scalars, try fixture("inception_features_28_resized.npy").doubles)
        XCTAssertTrue(extractor.name.contains("resized to 299 as pytorch-fid"), extractor.name)
    }

    func testBilinearResizeMatchesTorchInterpolate() throws {
        for (name, height, width) in [("resize_bilinear_5x6_to_13x11", 13, 11), ("resize_bilinear_12x10_to_5x4", 5, 4)] {
            let input = try fixture("\(name)_input.npy"), expected = try fixture("\(name).npy")
            let x = Tensor(shape: input.shape, input.doubles.map(Float.init))
            let resized = resizeBilinear(x, height: height, width: width)
            XCTAssertEqual(resized.shape, expected.shape, name)
            for (a, e) in zip(resized.scalars, expected.doubles) { XCTAssertEqual(Double(a), e, accuracy: 1e-6, name) }
        }
    }

    func testBicubicResizeMatchesCleanFID() throws {
        for (name, height, width) in [("resize_clean_5x6_to_13x11", 13, 11), ("resize_clean_12x10_to_5x4", 5, 4)] {
            let input = try fixture("\(name)_input.npy"), expected = try fixture("\(name).npy")
            let resized = PillowBicubic.resize(input.doubles.map(Float.init), height: input.shape[0], width: input.shape[1],
                                               outHeight: height, outWidth: width).map { min(255, max(0, $0)) }
            XCTAssertEqual(resized.count, expected.doubles.count, name)
            for (a, e) in zip(resized, expected.doubles) { XCTAssertEqual(Double(a), e, accuracy: 1e-3, name) }
        }
    }

    func testPoolsCountOnlyTheImage() {
        let x = Tensor(shape: [1, 1, 2, 3], [1, 2, 3, 4, 5, 6])
        // 3x3 windows, stride 1, padding 1: a corner averages its 4 pixels inside the image.
        XCTAssertEqual(averagePool2d(x, kernel: 3, stride: 1, padding: 1).scalars, [3, 3.5, 4, 3, 3.5, 4])
        XCTAssertEqual(maxPool2d(x, kernel: 3, stride: 1, padding: 1).scalars, [5, 6, 6, 5, 6, 6])
        XCTAssertEqual(maxPool2d(Tensor(shape: [1, 1, 3, 3], (0..<9).map { -Float($0) }), kernel: 3, stride: 2).scalars, [0])
    }

    func testMissingOrMisshapenWeightsAreNamed() throws {
        var weights = Self.weights
        weights["Mixed_6b.branch7x7_2.conv.weight"] = nil
        weights["Conv2d_1a_3x3.bn.bias"] = Tensor.zeros([31])
        XCTAssertThrowsError(try FIDInception(weights: weights, path: "/tmp/w.safetensors")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("/tmp/w.safetensors"), text)
            XCTAssertTrue(text.contains("Conv2d_1a_3x3.bn.bias has shape [31], expected [32]"), text)
            XCTAssertTrue(text.contains("missing Mixed_6b.branch7x7_2.conv.weight"), text)
        }
        let absent = URL(fileURLWithPath: "/nonexistent/fid-inception.safetensors")
        XCTAssertThrowsError(try InceptionExtractor(file: absent, resolution: 28, channels: 1)) { error in
            XCTAssertTrue("\(error)".contains("convert pytorch-fid's pt_inception-2015-12-05-6726825d.pth"), "\(error)")
        }
    }
}
