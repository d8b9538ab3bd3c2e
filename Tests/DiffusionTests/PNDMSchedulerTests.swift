import Foundation
import NN
import XCTest
@testable import Diffusion

/// PNDMScheduler against diffusers' PNDMScheduler (Tests/Fixtures/make_heun_pndm_fixtures.py).
final class PNDMSchedulerTests: XCTestCase {
    private func cases(_ file: String) throws -> [SchedulerFixture] {
        try SchedulerFixture.cases("heun_pndm", file)
    }

    /// The timesteps with their repeats, exactly, with the PRK warm-up and without, for each
    /// spacing, steps_offset 0 and 1, 1 to 50 steps. Where numpy's arange gives trailing spacing
    /// an extra timestep -1, diffusers runs one more step; this scheduler stops before it.
    func testTimestepsMatchDiffusers() throws {
        let all = try cases("pndm_schedules")
        XCTAssertEqual(all.count, 54)
        for fixture in all {
            let scheduler = try PNDMScheduler(config: fixture.config())
            try scheduler.setTimesteps(fixture.steps)
            var expected = try fixture.tensor("timesteps").scalars
            if fixture.info["extra_last"] as? Bool == true {
                XCTAssertEqual(expected.removeLast(), -1, fixture.name)
            }
            XCTAssertEqual(scheduler.timesteps, expected, fixture.name)
            let skip = try fixture.config().skipPRKSteps ?? false
            XCTAssertEqual(scheduler.timesteps.count, fixture.steps + (skip ? (fixture.steps > 1 ? 1 : 0) : 9), fixture.name)
        }
    }

    /// PRK warm-up and PLMS only, epsilon and v_prediction, linear and scaled-linear betas, each
    /// spacing, set_alpha_to_one both ways; the fewest steps of each mode with cosine betas, the
    /// defaults and keys that PNDM does not have.
    func testTrajectoriesMatchDiffusers() throws {
        let all = try cases("pndm")
        XCTAssertEqual(all.count, 28)
        for fixture in all {
            XCTAssertEqual(try fixture.runTrajectory(try PNDMScheduler(config: fixture.config())).draws, 0, fixture.name)
        }
    }

    /// setTimesteps in the middle of a run drops the noise estimates, the counter and the partial sums.
    func testSetTimestepsStartsAFreshRun() throws {
        for name in ["prk_linear_epsilon_leading_10", "plms_linear_epsilon_leading_10"] {
            let fixture = try XCTUnwrap(cases("pndm").first { $0.name == name })
            let scheduler = try PNDMScheduler(config: fixture.config())
            try scheduler.setTimesteps(6)
            let x = try fixture.tensor("x")
            for t in scheduler.timesteps.prefix(3) {
                _ = scheduler.step(modelOutput: x, timestep: t, sample: x) { XCTFail("noise drawn"); return x }
            }
            XCTAssertEqual(try fixture.runTrajectory(scheduler).draws, 0, fixture.name)
        }
    }

    func testDefaultsAndUnsupportedValues() throws {
        let pndm = try PNDMScheduler(config: SchedulerConfig())
        XCTAssertEqual(pndm.timesteps, [])
        XCTAssertEqual(pndm.initNoiseSigma, 1)
        try pndm.setTimesteps(4)
        // leading spacing, stride 250, half stride 125, the Runge-Kutta warm-up
        XCTAssertEqual(pndm.timesteps, [750, 625, 625, 500, 500, 375, 375, 250, 250, 125, 125, 0, 0])
        let x = Tensor(shape: [2], [3, -4])
        XCTAssertEqual(pndm.scaleModelInput(x, timestep: 750).scalars, x.scalars)
        for count in [1, 2, 3] {
            XCTAssertThrowsError(try pndm.setTimesteps(count)) { XCTAssert($0 is SchedulerError, "\($0)") }
        }
        XCTAssertThrowsError(try pndm.setTimesteps(1001))

        var plms = SchedulerConfig()
        plms.skipPRKSteps = true
        let skipping = try PNDMScheduler(config: plms)
        try skipping.setTimesteps(1)
        XCTAssertEqual(skipping.timesteps, [0])
        try skipping.setTimesteps(4)
        XCTAssertEqual(skipping.timesteps, [750, 500, 500, 250, 0])

        func check(_ field: String, line: UInt = #line, _ change: (inout SchedulerConfig) -> Void) {
            var config = SchedulerConfig()
            change(&config)
            XCTAssertThrowsError(try PNDMScheduler(config: config), line: line) { error in
                XCTAssertEqual((error as? ConfigError)?.field, field, "\(error)", line: line)
            }
        }
        check("prediction_type") { $0.predictionType = "sample" }
        check("trained_betas") { $0.trainedBetas = [0.1, 0.2] }
        check("beta_schedule") { $0.betaSchedule = "exp" }
        check("timestep_spacing") { $0.timestepSpacing = "karras" }
        check("steps_offset") { $0.stepsOffset = -1 }
        XCTAssertTrue(try SchedulerKind(rawValue: "pndm")?.make(config: SchedulerConfig()) is PNDMScheduler)
    }

    /// skip_prk_steps is read from and written to scheduler_config.json.
    func testSkipPRKStepsKey() throws {
        let read = try SchedulerConfig(json: Data(#"{"skip_prk_steps": true, "steps_offset": 1}"#.utf8), path: "config")
        XCTAssertEqual(read.skipPRKSteps, true)
        let written = try JSONSerialization.jsonObject(with: read.jsonData()) as? [String: Any]
        XCTAssertEqual(written?["skip_prk_steps"] as? Bool, true)
        XCTAssertEqual(try SchedulerConfig(json: read.jsonData(), path: "config"), read)
        XCTAssertThrowsError(try SchedulerConfig(json: Data(#"{"skip_prk_steps": "yes"}"#.utf8), path: "config"))
    }
}
