import Foundation
import NN
import XCTest
@testable import Diffusion

/// HeunScheduler against diffusers' HeunDiscreteScheduler (Tests/Fixtures/make_heun_pndm_fixtures.py).
final class HeunSchedulerTests: XCTestCase {
    private func cases(_ file: String) throws -> [SchedulerFixture] {
        try SchedulerFixture.cases("heun_pndm", file)
    }

    /// Interleaved timesteps exactly, sigmas and init_noise_sigma to float32 rounding, for three
    /// beta schedules, each spacing, steps_offset 0 and 1, 1 to 25 steps.
    func testSchedulesMatchDiffusers() throws {
        let all = try cases("heun_schedules")
        XCTAssertEqual(all.count, 48)
        for fixture in all {
            let scheduler = try HeunScheduler(config: fixture.config())
            try scheduler.setTimesteps(fixture.steps)
            XCTAssertEqual(scheduler.timesteps, try fixture.tensor("timesteps").scalars, fixture.name)
            XCTAssertEqual(scheduler.timesteps.count, 2 * fixture.steps - 1, fixture.name)
            let sigmas = scheduler.sigmas
            assertClose(Tensor(shape: [sigmas.count], sigmas), try fixture.tensor("sigmas"), atol: 0, rtol: 1e-6, fixture.name)
            let initSigma = try fixture.tensor("init_noise_sigma").scalars[0]
            XCTAssertEqual(scheduler.initNoiseSigma, initSigma, accuracy: initSigma * 1e-6, fixture.name)
        }
    }

    /// Each prediction type with linear and scaled-linear betas and each spacing, clip_sample,
    /// the defaults, keys that Heun does not have, a single step, and Karras sigmas (whose
    /// timesteps come from numpy's float32 log, up to 2 ulp off: compared to 1e-4).
    func testTrajectoriesMatchDiffusers() throws {
        let all = try cases("heun")
        XCTAssertEqual(all.count, 25)
        for fixture in all {
            let scheduler = try HeunScheduler(config: fixture.config())
            let timestepTolerance: Float = fixture.name.hasPrefix("karras") ? 1e-4 : 0
            XCTAssertEqual(try fixture.runTrajectory(scheduler, timestepTolerance: timestepTolerance).draws, 0, fixture.name)
            let sigmas = scheduler.sigmas
            assertClose(Tensor(shape: [sigmas.count], sigmas), try fixture.tensor("sigmas"), atol: 0, rtol: 1e-6, fixture.name)
        }
    }

    /// setTimesteps in the middle of a step pair drops the first half's state.
    func testSetTimestepsStartsAFreshRun() throws {
        let fixture = try XCTUnwrap(cases("heun").first { $0.name == "linear_epsilon_linspace_8" })
        let scheduler = try HeunScheduler(config: fixture.config())
        try scheduler.setTimesteps(5)
        let x = try fixture.tensor("x")
        for t in scheduler.timesteps.prefix(2) {
            _ = scheduler.step(modelOutput: x, timestep: t, sample: x) { XCTFail("noise drawn"); return x }
        }
        _ = scheduler.step(modelOutput: x, timestep: scheduler.timesteps[2], sample: x) { XCTFail("noise drawn"); return x }
        XCTAssertEqual(try fixture.runTrajectory(scheduler).draws, 0, fixture.name)
    }

    /// Heun's own defaults (betas 0.00085 ... 0.012, clip_sample false, linspace), and the values
    /// it rejects by key.
    func testDefaultsAndUnsupportedKeys() throws {
        let heun = try HeunScheduler(config: SchedulerConfig())
        // before setTimesteps: all training timesteps, interleaved, as diffusers' constructor sets them
        XCTAssertEqual(heun.timesteps.count, 1999)
        XCTAssertEqual(Array(heun.timesteps.prefix(3)), [999, 998, 998])
        XCTAssertEqual(heun.sigmas.count, 2000)
        XCTAssertEqual(heun.sigmas.last, 0)
        try heun.setTimesteps(3)
        XCTAssertEqual(heun.timesteps, [999, 499.5, 499.5, 0, 0])

        var explicit = SchedulerConfig()
        explicit.betaStart = 0.00085
        explicit.betaEnd = 0.012
        explicit.clipSample = false
        explicit.timestepSpacing = "linspace"
        let same = try HeunScheduler(config: explicit)
        try same.setTimesteps(3)
        XCTAssertEqual(same.sigmas, heun.sigmas)
        XCTAssertThrowsError(try heun.setTimesteps(0))
        XCTAssertThrowsError(try heun.setTimesteps(1001))

        func check(_ field: String, line: UInt = #line, _ change: (inout SchedulerConfig) -> Void) {
            var config = SchedulerConfig()
            change(&config)
            XCTAssertThrowsError(try HeunScheduler(config: config), line: line) { error in
                XCTAssertEqual((error as? ConfigError)?.field, field, "\(error)", line: line)
            }
        }
        check("use_beta_sigmas") { $0.useBetaSigmas = true }
        check("beta_schedule") { $0.betaSchedule = "exp" }
        check("trained_betas") { $0.trainedBetas = [0.1, 0.2] }
        check("prediction_type") { $0.predictionType = "x0" }
        check("timestep_spacing") { $0.timestepSpacing = "karras" }
        check("clip_sample_range") { $0.clipSample = true; $0.clipSampleRange = 0 }
        XCTAssertTrue(try SchedulerKind(rawValue: "heun")?.make(config: SchedulerConfig()) is HeunScheduler)
    }

    /// The model input of entry k is divided by sqrt(sigma_k^2 + 1) of the interleaved sigmas, in
    /// the first and the second halves alike.
    func testScaleModelInput() throws {
        let scheduler = try HeunScheduler(config: SchedulerConfig())
        try scheduler.setTimesteps(3)
        let x = Tensor(shape: [2], [3, -4])
        for (k, t) in scheduler.timesteps.enumerated() {
            let sigma = scheduler.sigmas[k], d = (sigma * sigma + 1).squareRoot()
            XCTAssertEqual(scheduler.scaleModelInput(x, timestep: t).scalars, [3 / d, -4 / d])
            _ = scheduler.step(modelOutput: x, timestep: t, sample: x) { XCTFail("noise drawn"); return x }
        }
    }

    /// The caution names the first step's amplification sigma_0 / (2 sigma_1): on the shipped
    /// model's capped cosine schedule with trailing spacing, 20,291 / (2 x 6.365) = 1,594 at 10
    /// steps (diffusers' sigmas); none with leading spacing (6.37 to 3.12) or on linear betas.
    func testCautionNamesAHugeFirstStep() throws {
        var config = SchedulerConfig()
        config.betaSchedule = "squaredcos_cap_v2"
        config.predictionType = "v_prediction"
        config.timestepSpacing = "trailing"
        let scheduler = try HeunScheduler(config: config)
        try scheduler.setTimesteps(10)
        XCTAssertEqual(scheduler.sigmas[0], 20291.3, accuracy: 0.5)
        XCTAssertEqual(scheduler.sigmas[1], 6.365, accuracy: 0.001)
        let caution = try XCTUnwrap(scheduler.caution)
        XCTAssertTrue(caution.contains("sigma 20291 (t = 999) to 6.3") && caution.contains("by 1594"), caution)
        XCTAssertTrue(caution.contains("--timestep-spacing leading"), caution)

        config.timestepSpacing = "leading"
        let leading = try HeunScheduler(config: config)
        try leading.setTimesteps(10)
        XCTAssertNil(leading.caution)
        config.betaSchedule = "linear"
        config.timestepSpacing = "trailing"
        let linear = try HeunScheduler(config: config)
        try linear.setTimesteps(10)
        XCTAssertNil(linear.caution, "linear betas: sigma \(linear.sigmas[0]) to \(linear.sigmas[1])")
        XCTAssertNil(try DDIMScheduler(config: config).caution, "other samplers have none")
    }
}
