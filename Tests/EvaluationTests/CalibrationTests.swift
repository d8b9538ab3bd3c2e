import Foundation
import Imaging
import NN
import XCTest
@testable import Evaluation

/// The disturbances of the calibration ladder against answers worked out by hand, and the
/// ladder itself on a small labelled folder.
final class CalibrationTests: XCTestCase {
    private func uniform(_ value: UInt8, count: Int = 1, side: Int = 8) -> PixelSet {
        PixelSet(count: count, channels: 1, height: side, width: side, pixels: [UInt8](repeating: value, count: count * side * side))
    }

    func testFloorShiftLiftsBlackAndKeepsWhite() {
        let set = PixelSet(count: 1, channels: 1, height: 1, width: 3, pixels: [0, 128, 255])
        XCTAssertEqual(Disturbance.floorShift.apply(to: set, level: 4, seed: 0).pixels, [4, 130, 255])  // 4 + 128 * 251/255 = 129.99
        XCTAssertEqual(Disturbance.floorShift.apply(to: set, level: 16, seed: 0).pixels, [16, 136, 255])
    }

    func testSaltAndPepperReplacesTheGivenFraction() {
        let gray = uniform(128, count: 50, side: 20)
        let disturbed = Disturbance.saltAndPepper.apply(to: gray, level: 0.1, seed: 3).pixels
        let salt = disturbed.filter { $0 == 255 }.count, pepper = disturbed.filter { $0 == 0 }.count
        XCTAssertEqual(salt + pepper + disturbed.filter { $0 == 128 }.count, disturbed.count)
        XCTAssertEqual(Double(salt) / Double(disturbed.count), 0.05, accuracy: 0.005)
        XCTAssertEqual(Double(pepper) / Double(disturbed.count), 0.05, accuracy: 0.005)
        XCTAssertEqual(Disturbance.saltAndPepper.apply(to: gray, level: 0.1, seed: 3).pixels, disturbed, "seeded")
    }

    func testNoiseHasTheGivenStandardDeviation() {
        let values = Disturbance.noise.apply(to: uniform(128, count: 50, side: 20), level: 8, seed: 1).pixels.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        XCTAssertEqual(mean, 128, accuracy: 0.2)
        XCTAssertEqual(sd, (64 + 1.0 / 12).squareRoot(), accuracy: 0.15, "sd 8, plus rounding's 1/12")
    }

    func testRectanglesBlackenAQuarterSide() {
        let white = uniform(255, count: 3, side: 8)
        let one = Disturbance.rectangles.apply(to: white, level: 1, seed: 5)
        for image in 0..<3 {
            XCTAssertEqual(one.pixels[(image * 64)..<((image + 1) * 64)].filter { $0 == 0 }.count, 4, "a 2x2 rectangle")
        }
        let four = Disturbance.rectangles.apply(to: white, level: 4, seed: 5)
        XCTAssertGreaterThanOrEqual(four.pixels.filter { $0 == 0 }.count, 3 * 4)
    }

    /// An impulse of 255 blurred with sigma 1: the centre keeps 255 w0^2, where w0 is the
    /// normalized centre tap of the 7-tap kernel; at a corner, reflection keeps the same.
    func testBlurOfAnImpulse() {
        let taps = (-3...3).map { exp(-Double($0 * $0) / 2) }
        let w0 = 1 / taps.reduce(0, +), w1 = taps[4] / taps.reduce(0, +)
        var centre = uniform(0, side: 9)
        centre.pixels[4 * 9 + 4] = 255
        let blurred = Disturbance.blur.apply(to: centre, level: 1, seed: 0)
        XCTAssertEqual(blurred.pixels[4 * 9 + 4], UInt8((255 * w0 * w0).rounded()))
        XCTAssertEqual(blurred.pixels[4 * 9 + 5], UInt8((255 * w0 * w1).rounded()))
        XCTAssertEqual(blurred.pixels.map(Int.init).reduce(0, +), 255, accuracy: 12, "a blur keeps the sum, up to rounding")
        var corner = uniform(0, side: 9)
        corner.pixels[0] = 255
        XCTAssertEqual(Disturbance.blur.apply(to: corner, level: 1, seed: 0).pixels[0], UInt8((255 * w0 * w0).rounded()))
        XCTAssertEqual(Disturbance.blur.apply(to: uniform(77), level: 2, seed: 0).pixels, uniform(77).pixels, "flat stays flat")
    }

    func testMixingReplacesTheFirstImages() {
        let mixed = Disturbance.mixed(uniform(10, count: 4, side: 2), with: uniform(200, count: 3, side: 2), fraction: 0.5)
        XCTAssertEqual(mixed.pixels, [UInt8](repeating: 200, count: 8) + [UInt8](repeating: 10, count: 8))
        let capped = Disturbance.mixed(uniform(10, count: 4, side: 2), with: uniform(200, count: 1, side: 2), fraction: 1)
        XCTAssertEqual(capped.pixels.filter { $0 == 200 }.count, 4, "only as many as the other class has")
    }

    func testVerdictsNameAColumnThatDoesNotWorsen() {
        func row(_ d: Disturbance?, _ fid: Double, _ precision: Double) -> Calibration.Row {
            Calibration.Row(disturbance: d, level: nil, label: "", fid: fid, kid: fid / 100, precision: precision,
                            recall: precision, coverage: precision)
        }
        let steady = [row(nil, 1, 0.9)] + [2.0, 3, 4, 5].map { row(.blur, $0, 1 - $0 / 10) }
        XCTAssertEqual(Calibration.verdicts(steady), [])
        let flat = [row(nil, 1, 0.9)] + [1.0, 3, 4, 5].map { row(.noise, $0, 0.8) }
        let lines = Calibration.verdicts(flat)
        XCTAssertTrue(lines.contains("FID does not worsen steadily under noise (floor first: 1.000, 1.000, 3.000, 4.000, 5.000)"), "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("precision does not worsen steadily under noise") }, "\(lines)")
    }

    /// The whole ladder on a labelled folder with pixel features, which see every disturbance:
    /// the left-out class is the first, every disturbance has four rows, and its strongest level
    /// scores above the floor (20 noisy 8x8 images are too few for every level to rise).
    func testLadderOnALabelledFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-calibration-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        for (c, name) in ["a-stripes", "b-blobs", "c-dots"].enumerated() {
            let folder = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<24 {
                let noise = Tensor.rand([64], seed: UInt64(c * 100 + i)).scalars
                let pixels = (0..<64).map { p in UInt8(min(255, Float((p / 8 + c) % 3 == 0 ? 180 : 0) + noise[p] * 60)) }
                try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: pixels), to: folder.appendingPathComponent("\(i).png"))
            }
        }
        let dataset = try ImageDataset.load(folder: root, resolution: 8, channels: 1)
        let report = try Calibration.run(dataset, extractor: PixelExtractor(resolution: 8, channels: 1), size: 20)
        XCTAssertEqual(report.otherClass, "a-stripes")
        XCTAssertEqual(report.images, 20)
        XCTAssertEqual(report.rows.count, 1 + 6 * 4)
        XCTAssertEqual(report.rows[0].label, "real vs real")
        for disturbance in Disturbance.allCases {
            let strongest = try XCTUnwrap(report.rows.last { $0.disturbance == disturbance })
            XCTAssertGreaterThan(strongest.fid, report.rows[0].fid, disturbance.rawValue)
        }
        XCTAssertEqual(report.verdicts, Calibration.verdicts(report.rows))
        XCTAssertTrue(report.markdown().contains("| floor-shift +16 |"), report.markdown())
        XCTAssertTrue(report.chart().svg().contains("real vs real"))
        XCTAssertThrowsError(try Calibration.run(dataset, extractor: PixelExtractor(resolution: 8, channels: 1), size: 20,
                                                 otherClass: "no-such")) { error in
            XCTAssertTrue("\(error)".contains("--other-class no-such: no such class"), "\(error)")
        }
    }
}
