@testable import Diffusion
import XCTest

/// `TimestepBias` and its draw, against the probabilities of diffusers' SDXL training script's
/// `generate_timestep_weights` (weights 1, the biased part `multiplier`, normalised).
final class TimestepBiasTests: XCTestCase {
    /// Every 32-bit word, 2^32 / count apart: the share of words a timestep gets is its chance.
    private func shares(_ draw: TimestepDraw, words: Int = 1 << 20) -> [Double] {
        var counts = [Int](repeating: 0, count: draw.trainTimesteps)
        for k in 0..<words { counts[draw.timestep(UInt32((UInt64(k) << 32) / UInt64(words)))] += 1 }
        return counts.map { Double($0) / Double(words) }
    }

    /// Without a bias the draw is the one every earlier run made: floor(word T / 2^32).
    func testUniformDrawIsTheEarlierDraw() {
        let draw = TimestepDraw(trainTimesteps: 1000, bias: nil)
        var state: UInt64 = 12345
        for word in [UInt32(0), 1, 4_294_967, 4_294_968, .max] + (0..<1000).map({ _ -> UInt32 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: state >> 32)
        }) {
            XCTAssertEqual(draw.timestep(word), Int((UInt64(word) * 1000) >> 32), "word \(word)")
        }
    }

    /// "earlier", multiplier 4, portion 0.25 of 1,000: t < 250 weighs 4, the rest 1, so each
    /// low timestep has chance 4/1750 and each other 1/1750.
    func testEarlierBiasDrawsTheLowTimestepsMultiplierTimesAsOften() {
        let bias = TimestepBias(strategy: .earlier, multiplier: 4, portion: 0.25)
        XCTAssertEqual(bias.biased(trainTimesteps: 1000), 0..<250)
        let p = shares(TimestepDraw(trainTimesteps: 1000, bias: bias))
        for t in [0, 1, 100, 249] { XCTAssertEqual(p[t], 4.0 / 1750, accuracy: 2e-6, "t = \(t)") }
        for t in [250, 500, 999] { XCTAssertEqual(p[t], 1.0 / 1750, accuracy: 2e-6, "t = \(t)") }
        XCTAssertEqual(p[0..<250].reduce(0, +), 1000.0 / 1750, accuracy: 1e-5)
    }

    /// "later" biases the last portion (int(0.1 * 1000) = 100 timesteps), "range" begin..<end;
    /// a multiplier below 1 draws them less often.
    func testLaterAndRangeBiases() {
        XCTAssertEqual(TimestepBias(strategy: .later, multiplier: 2, portion: 0.1).biased(trainTimesteps: 1000), 900..<1000)
        XCTAssertEqual(TimestepBias(strategy: .earlier, multiplier: 2, portion: 0.1234).biased(trainTimesteps: 1000), 0..<123,
                       "the portion's count is truncated, as int() does")
        let later = shares(TimestepDraw(trainTimesteps: 1000, bias: TimestepBias(strategy: .later, multiplier: 2, portion: 0.1)))
        XCTAssertEqual(later[950], 2.0 / 1100, accuracy: 2e-6)
        XCTAssertEqual(later[10], 1.0 / 1100, accuracy: 2e-6)
        let range = TimestepBias(strategy: .range, multiplier: 0.5, begin: 100, end: 300)
        let p = shares(TimestepDraw(trainTimesteps: 1000, bias: range))
        XCTAssertEqual(p[100], 0.5 / 900, accuracy: 2e-6)
        XCTAssertEqual(p[299], 0.5 / 900, accuracy: 2e-6)
        XCTAssertEqual(p[99], 1.0 / 900, accuracy: 2e-6)
        XCTAssertEqual(p[300], 1.0 / 900, accuracy: 2e-6)
    }

    /// Any word gives a timestep of the schedule, the extreme words included.
    func testEveryWordGivesATimestepOfTheSchedule() {
        let draw = TimestepDraw(trainTimesteps: 7, bias: TimestepBias(strategy: .range, multiplier: 1000, begin: 6, end: 7))
        XCTAssertEqual(draw.timestep(0), 0)
        XCTAssertEqual(draw.timestep(.max), 6)
        XCTAssertEqual(shares(draw, words: 1 << 16)[6], 1000.0 / 1006, accuracy: 1e-4)
    }

    func testUnusableBiasesAreNamed() {
        XCTAssertNil(TimestepBias(strategy: .earlier, multiplier: 3).problem(trainTimesteps: 1000))
        XCTAssertNotNil(TimestepBias(strategy: .earlier, multiplier: 0).problem(trainTimesteps: 1000))
        XCTAssertNotNil(TimestepBias(strategy: .earlier, multiplier: .nan).problem(trainTimesteps: 1000))
        XCTAssertNotNil(TimestepBias(strategy: .later, multiplier: 2, portion: 0).problem(trainTimesteps: 1000))
        XCTAssertNotNil(TimestepBias(strategy: .later, multiplier: 2, portion: 1.5).problem(trainTimesteps: 1000))
        XCTAssertNotNil(TimestepBias(strategy: .range, multiplier: 2, begin: 500, end: 1001).problem(trainTimesteps: 1000))
        XCTAssertNotNil(TimestepBias(strategy: .range, multiplier: 2, begin: 300, end: 300).problem(trainTimesteps: 1000))
        XCTAssertNotNil(TimestepBias(strategy: .range, multiplier: 2, begin: -1, end: 300).problem(trainTimesteps: 1000))
    }
}
