import Evaluation
import Imaging
import XCTest

/// Pixel statistics against answers worked out by hand.
final class PixelStatisticsTests: XCTestCase {
    /// `count` gray 2x2 images, each holding `values`.
    private func set(_ images: [[UInt8]]) -> PixelSet {
        PixelSet(count: images.count, channels: 1, height: 2, width: 2, pixels: images.flatMap { $0 })
    }

    func testSummaryCountsZerosSaturationMeanAndStd() {
        let summary = PixelSummary(set([[0, 255, 10, 20], [0, 0, 30, 40]]))
        XCTAssertEqual(summary.zeros, 3.0 / 8)
        XCTAssertEqual(summary.saturated, 1.0 / 8)
        let values: [Double] = [0, 255, 10, 20, 0, 0, 30, 40]
        let mean = values.reduce(0, +) / 8
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 8).squareRoot()
        XCTAssertEqual(summary.mean, [mean])
        XCTAssertEqual(summary.std[0], std, accuracy: 1e-9)
        XCTAssertEqual(summary.histogram.reduce(0, +), 8)
        XCTAssertEqual(summary.histogram[0], 3)
    }

    func testChannelsAreSummarizedApart() {
        // One 1x2 RGB image: red 10 and 30, green 0 and 0, blue 255 and 255.
        let image = Image(width: 2, height: 1, channels: 3, pixels: [10, 0, 255, 30, 0, 255])
        let summary = PixelSummary(PixelSet([image]))
        XCTAssertEqual(summary.mean, [20, 0, 255])
        XCTAssertEqual(summary.std, [10, 0, 0])
        XCTAssertEqual(summary.zeros, 2.0 / 6)
        XCTAssertEqual(summary.saturated, 2.0 / 6)
    }

    func testHistogramDistances() {
        let black = PixelSummary(set([[0, 0, 0, 0]])), gray = PixelSummary(set([[4, 4, 4, 4]]))
        XCTAssertEqual(black.totalVariation(to: gray), 1)
        XCTAssertEqual(black.wasserstein1(to: gray), 4)
        // Half at 0 and half at 10, against all at 10: half the mass moves 10 levels.
        let half = PixelSummary(set([[0, 0, 10, 10]])), ten = PixelSummary(set([[10, 10, 10, 10]]))
        XCTAssertEqual(half.totalVariation(to: ten), 0.5)
        XCTAssertEqual(half.wasserstein1(to: ten), 5)
        XCTAssertEqual(ten.wasserstein1(to: half), 5)
        XCTAssertEqual(ten.totalVariation(to: ten), 0)
        // Everything from 0 to 255: the largest distance there is.
        let white = PixelSummary(set([[255, 255, 255, 255]]))
        XCTAssertEqual(black.wasserstein1(to: white), 255)
    }

    /// Real images: dark backgrounds (0) with a bright square of varying level. A copy of the
    /// real set raises no warning; the same images with the floor lifted by 4 levels (the gray
    /// background of undertrained samples) raise the zero-fraction, histogram and mean warnings.
    func testFloorShiftIsWarnedAndRealImagesAreNot() throws {
        var images: [UInt8] = []
        for i in 0..<40 {
            var image = [UInt8](repeating: 0, count: 16)
            for p in [5, 6, 9, 10] { image[p] = UInt8(150 + (i * 7) % 20) }
            images += image
        }
        let real = PixelSet(count: 40, channels: 1, height: 4, width: 4, pixels: images)
        let floor = try XCTUnwrap(PixelFloor(real: real, size: 10, draws: 10, seed: 1))
        XCTAssertEqual(floor.images, 10)
        XCTAssertEqual(floor.largest.zeros, 0, "every real image has 12 of 16 pixels at 0")

        let same = PixelComparison(real: PixelSummary(real), generated: PixelSummary(real.subset(Array(0..<40))), floor: floor)
        XCTAssertEqual(same.warnings, [])

        let lifted = PixelSet(count: 40, channels: 1, height: 4, width: 4, pixels: images.map { $0 == 0 ? 4 : $0 })
        let shifted = PixelComparison(real: PixelSummary(real), generated: PixelSummary(lifted), floor: floor)
        XCTAssertEqual(shifted.generated.zeros, 0)
        XCTAssertEqual(shifted.difference.zeros, 0.75)
        XCTAssertEqual(shifted.difference.wasserstein1, 3, accuracy: 1e-12, "three quarters of the mass move 4 levels")
        XCTAssertTrue(shifted.warnings.contains { $0.hasPrefix("0.0% of generated pixel values are 0, against 75.0%") },
                      "\(shifted.warnings)")
        XCTAssertTrue(shifted.warnings.contains { $0.contains("Wasserstein-1") }, "\(shifted.warnings)")
        XCTAssertTrue(shifted.warnings.contains { $0.hasPrefix("channel 0 has mean") }, "\(shifted.warnings)")
        XCTAssertTrue(shifted.markdown().contains("| values at 0 | 75.00% | 0.00% | 75.00% | 0.00% |"), shifted.markdown())
    }

    func testFloorNeedsFourImagesAndShrinksToHalfTheRealSet() throws {
        let three = set([[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]])
        XCTAssertNil(PixelFloor(real: three, size: 10))
        let six = set((0..<6).map { [UInt8($0), 0, 0, 0] })
        XCTAssertEqual(try XCTUnwrap(PixelFloor(real: six, size: 10)).images, 3)
    }
}
