import Foundation
import NN
import XCTest
@testable import Diffusion

/// EulerScheduler and EulerAncestralScheduler against diffusers' EulerDiscreteScheduler and
/// EulerAncestralDiscreteScheduler (Tests/Fixtures/make_euler_fixtures.py), Karras sigmas included.
final class EulerSchedulerTests: XCTestCase {
    private func cases(_ file: String) throws -> [SchedulerFixture] {
        try SchedulerFixture.cases("euler", file)
    }

    /// Runs a fixture trajectory: the sample after each step to within 1e-5 of the sample scale.
    /// Returns how many steps drew noise.
    @discardableResult
    private func runTrajectory(_ scheduler: Scheduler, _ fixture: SchedulerFixture) throws -> Int {
        try fixture.runTrajectory(scheduler).draws
    }

    func testSchedulesMatchDiffusers() throws {
        let all = try cases("schedules")
        XCTAssertEqual(all.count, 41)
        for fixture in all {
            for scheduler: Scheduler in [try EulerScheduler(config: fixture.config()),
                                         try EulerAncestralScheduler(config: fixture.config())] {
                try scheduler.setTimesteps(fixture.steps)
                XCTAssertEqual(scheduler.timesteps, try fixture.tensor("timesteps").scalars, fixture.name)
                let sigmas = (scheduler as? EulerScheduler)?.sigmas ?? (scheduler as! EulerAncestralScheduler).sigmas
                let expected = try fixture.tensor("sigmas")
                assertClose(Tensor(shape: [sigmas.count], sigmas), expected, atol: 0, rtol: 1e-6, fixture.name)
                let initSigma = try fixture.tensor("init_noise_sigma").scalars[0]
                XCTAssertEqual(scheduler.initNoiseSigma, initSigma, accuracy: initSigma * 1e-6, fixture.name)
            }
        }
    }

    func testEulerTrajectoriesMatchDiffusers() throws {
        let all = try cases("euler")
        XCTAssertEqual(all.count, 20)
        for fixture in all {
            let scheduler = try EulerScheduler(config: fixture.config())
            let options = fixture.options
            if let churn = options["s_churn"] {
                scheduler.sChurn = Float(churn)
                scheduler.sTmin = Float(options["s_tmin"]!)
                scheduler.sTmax = Float(options["s_tmax"]!)
                scheduler.sNoise = Float(options["s_noise"]!)
            }
            let draws = try runTrajectory(scheduler, fixture)
            if options["s_churn"] != nil {
                // sigma within 0.5 ... 10 for some of the steps only
                XCTAssert(draws > 0 && draws < fixture.steps, "\(fixture.name): \(draws) draws")
            }
        }
    }

    func testEulerAncestralTrajectoriesMatchDiffusers() throws {
        let all = try cases("ancestral")
        XCTAssertEqual(all.count, 12)
        for fixture in all {
            let draws = try runTrajectory(try EulerAncestralScheduler(config: fixture.config()), fixture)
            XCTAssertEqual(draws, fixture.steps - 1, "\(fixture.name): no noise for the last step only")
        }
    }

    func testDefaultsAndUnsupportedKeys() throws {
        let euler = try EulerScheduler(config: SchedulerConfig())
        // before setTimesteps: all training timesteps, as diffusers' constructor sets them
        XCTAssertEqual(euler.timesteps.count, 1000)
        XCTAssertEqual(euler.timesteps.first, 999)
        XCTAssertEqual(euler.sigmas.last, 0)
        try euler.setTimesteps(4)
        XCTAssertEqual(euler.timesteps, [999, 666, 333, 0])
        XCTAssertThrowsError(try euler.setTimesteps(0))
        XCTAssertThrowsError(try euler.setTimesteps(1001))

        var sample = SchedulerConfig()
        sample.predictionType = "sample"
        XCTAssertNoThrow(try EulerScheduler(config: sample))
        XCTAssertThrowsError(try EulerAncestralScheduler(config: sample)) { error in
            XCTAssertEqual((error as? ConfigError)?.field, "prediction_type")
        }
        var betas = SchedulerConfig()
        betas.trainedBetas = [0.1, 0.2]
        XCTAssertThrowsError(try EulerScheduler(config: betas))
        var spacing = SchedulerConfig()
        spacing.timestepSpacing = "karras"
        XCTAssertThrowsError(try EulerScheduler(config: spacing))
        for (field, change) in [("use_exponential_sigmas", { (c: inout SchedulerConfig) in c.useExponentialSigmas = true }),
                                ("use_beta_sigmas", { $0.useBetaSigmas = true }),
                                ("interpolation_type", { $0.interpolationType = "log_linear" }),
                                ("final_sigmas_type", { $0.finalSigmasType = "max" }),
                                ("sigma_min", { $0.sigmaMin = -1 })] as [(String, (inout SchedulerConfig) -> Void)] {
            var config = SchedulerConfig()
            change(&config)
            XCTAssertThrowsError(try EulerScheduler(config: config)) { error in
                XCTAssertEqual((error as? ConfigError)?.field, field)
            }
        }
    }

    /// Karras timesteps interpolate log sigma_t, which numpy computes with a float32 log that is off
    /// by up to 2 ulp (its SIMD code): they agree to 1e-4 (of timesteps up to 999), not exactly.
    private static let karrasTimestepTolerance: Float = 1e-4

    func testKarrasSchedulesMatchDiffusers() throws {
        let all = try cases("karras").filter { $0.name.hasPrefix("schedule_") }
        XCTAssertEqual(all.count, 108)
        let refused = try SchedulerFixture.checkSchedules(all, make: { try EulerScheduler(config: $0.config()) }) { scheduler, fixture in
            assertClose(Tensor(shape: [scheduler.timesteps.count], scheduler.timesteps), try fixture.tensor("timesteps"),
                        atol: Self.karrasTimestepTolerance, rtol: 0, fixture.name)
            let sigmas = scheduler.sigmas
            assertClose(Tensor(shape: [sigmas.count], sigmas), try fixture.tensor("sigmas"), atol: 0, rtol: 1e-6, fixture.name)
            let initSigma = try fixture.tensor("init_noise_sigma").scalars[0]
            XCTAssertEqual(scheduler.initNoiseSigma, initSigma, accuracy: initSigma * 1e-6, fixture.name)
        }
        XCTAssert(refused > 0 && refused < 40, "\(refused) runs refused")
    }

    func testKarrasTrajectoriesMatchDiffusers() throws {
        let all = try cases("karras").filter { $0.name.hasPrefix("trajectory_") }
        XCTAssertEqual(all.count, 9)
        for fixture in all {
            try fixture.runTrajectory(try EulerScheduler(config: fixture.config()), timestepTolerance: Self.karrasTimestepTolerance)
        }
    }

    /// Euler ancestral's diffusers class has no Karras or final-sigma keys: they are ignored.
    func testAncestralIgnoresEulerOnlyKeys() throws {
        var config = SchedulerConfig()
        config.useKarrasSigmas = true
        config.finalSigmasType = "sigma_min"
        config.interpolationType = "log_linear"
        let ancestral = try EulerAncestralScheduler(config: config)
        let plain = try EulerAncestralScheduler(config: SchedulerConfig())
        try ancestral.setTimesteps(10)
        try plain.setTimesteps(10)
        XCTAssertEqual(ancestral.sigmas, plain.sigmas)
        XCTAssertEqual(ancestral.timesteps, plain.timesteps)
    }

    /// scale_model_input divides by sqrt(sigma^2 + 1) of the current step, before and after steps.
    func testScaleModelInput() throws {
        let scheduler = try EulerScheduler(config: SchedulerConfig())
        try scheduler.setTimesteps(3)
        let x = Tensor(shape: [2], [3, -4])
        for (i, t) in scheduler.timesteps.enumerated() {
            let sigma = scheduler.sigmas[i], d = (sigma * sigma + 1).squareRoot()
            XCTAssertEqual(scheduler.scaleModelInput(x, timestep: t).scalars, [3 / d, -4 / d])
            _ = scheduler.step(modelOutput: x, timestep: t, sample: x) { XCTFail("noise drawn"); return x }
        }
    }

    /// Karras levels on the shipped model's capped cosine schedule (trailing, 10 steps: Karras et
    /// al.'s eq. 5 with rho 7 from 20,291 down to the run's smallest sigma, 0.169) end 6 of 10 steps
    /// above sigma 80 (20,291 -> 10,469 -> ... -> 305 -> 87 -> 19), which the caution names; the same run without Karras levels, and Karras levels on linear betas (sigma_max
    /// 157), end at most one step there and have none.
    func testCautionNamesStepsSpentOnPureNoise() throws {
        var config = SchedulerConfig()
        config.betaSchedule = "squaredcos_cap_v2"
        config.predictionType = "v_prediction"
        config.timestepSpacing = "trailing"
        config.useKarrasSigmas = true
        let karras = try EulerScheduler(config: config)
        try karras.setTimesteps(10)
        XCTAssertEqual(karras.sigmas.filter { $0 > 80 }.count, 7, "\(karras.sigmas)")
        let caution = try XCTUnwrap(karras.caution)
        XCTAssertTrue(caution.hasPrefix("6 of the 10 steps end above sigma 80 (the first starts at 20291)"), caution)
        let heun = try HeunScheduler(config: config)
        try heun.setTimesteps(10)
        XCTAssertEqual(heun.caution, caution, "Heun with the same levels")

        config.useKarrasSigmas = false
        let plain = try EulerScheduler(config: config)
        try plain.setTimesteps(10)
        XCTAssertNil(plain.caution, "\(plain.sigmas)")
        try plain.setTimesteps(1)
        XCTAssertNil(plain.caution, "one step from pure noise to the image makes the image")
        config.useKarrasSigmas = true
        config.betaSchedule = "linear"
        let linear = try EulerScheduler(config: config)
        try linear.setTimesteps(10)
        XCTAssertNil(linear.caution, "\(linear.sigmas)")
    }
}
