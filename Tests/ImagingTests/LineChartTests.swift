import Foundation
import XCTest
@testable import Imaging

final class LineChartTests: XCTestCase {
    /// Log-axis ticks are given as log10 values of round numbers.
    func testLogTicks() {
        func values(_ lower: Double, _ upper: Double) -> [Double] {
            LineChart.ticks(log10(lower), log10(upper), log: true).map { (pow(10, $0) * 1000).rounded() / 1000 }
        }
        XCTAssertEqual(values(5, 1000), [10, 100, 1000])
        XCTAssertEqual(values(8, 120), [10, 20, 50, 100])
        XCTAssertEqual(values(3.3, 6.7), [4, 5, 6])
    }

    func testLinearTicksAreRoundNumbers() {
        let unit = LineChart.ticks(0, 1, log: false)
        XCTAssertEqual(unit.count, 6)
        for (tick, expected) in zip(unit, [0, 0.2, 0.4, 0.6, 0.8, 1]) { XCTAssertEqual(tick, expected, accuracy: 1e-12) }
        XCTAssertEqual(LineChart.ticks(3, 47, log: false), [10, 20, 30, 40])
    }

    func testLogChartDrawsEveryPositivePointAndSkipsTheRest() {
        let chart = LineChart(title: "t", xLabel: "x", yLabel: "y",
                              series: [.init(name: "a", points: [(10, 1), (100, 2), (0, 3), (1000, .nan)])], logX: true)
        let svg = chart.svg()
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 2)
        XCTAssertTrue(svg.hasPrefix("<svg"))
    }

    /// A range narrower than the values' rounding, an empty one and non-finite bounds give a
    /// few ticks at once (the loss chart of a run whose losses agreed to the last bit once
    /// stepped forever, allocating without bound).
    func testDegenerateRangesEnd() {
        XCTAssertEqual(LineChart.ticks(0.1, 0.1.nextUp, log: false).count, 2)
        XCTAssertEqual(LineChart.ticks(1, 1, log: false), [1])
        XCTAssertEqual(LineChart.ticks(.nan, 1, log: false), [])
        XCTAssertEqual(LineChart.ticks(-.infinity, 1, log: true), [])
        let flat = LineChart(title: "loss", xLabel: "step", yLabel: "loss", series: [.init(name: "a", points: [(1, 0.1), (2, 0.1.nextUp)])])
        XCTAssertTrue(flat.svg().hasSuffix("</svg>\n"))
    }
}
