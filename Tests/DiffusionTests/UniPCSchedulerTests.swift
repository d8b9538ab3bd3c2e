import Foundation
import NN
import XCTest
@testable import Diffusion

/// UniPCMultistepScheduler against diffusers' UniPCMultistepScheduler
/// (Tests/Fixtures/make_dpm_fixtures.py).
final class UniPCSchedulerTests: XCTestCase {
    func testSchedulesMatchDiffusers() throws {
        let all = try SchedulerFixture.cases("dpm", "schedules").filter { $0.name.hasPrefix("unipc_") }
        XCTAssertEqual(all.count, 97)
        let refused = try SchedulerFixture.checkSchedules(all, make: { try UniPCMultistepScheduler(config: $0.config()) }) { scheduler, fixture in
            try DPMSolverSchedulerTests.checkSchedule(scheduler, sigmas: scheduler.sigmas, fixture)
            XCTAssertEqual(scheduler.initNoiseSigma, 1)
        }
        XCTAssert(refused > 0 && refused < 8, "\(refused) runs refused")
    }

    func testTrajectoriesMatchDiffusers() throws {
        let all = try SchedulerFixture.cases("dpm", "unipc").filter { !$0.name.hasPrefix("nan_last_") }
        XCTAssertEqual(all.count, 31)
        var worst: Float = 0
        for fixture in all {
            let scheduler = try UniPCMultistepScheduler(config: fixture.config())
            // Third order on predicted noise is ill-conditioned: diffusers' float32 run is 2.5e-5 of
            // the sample scale off its own float64 run (cancelling terms), so the bound is looser.
            let tolerance: Float = fixture.name.hasPrefix("eps_space_order3") ? 5e-5 : 1e-5
            let errors = try fixture.runTrajectory(scheduler, tolerance: tolerance)
            if tolerance == 1e-5 { worst = max(worst, errors.worst) }
            try DPMSolverSchedulerTests.checkSchedule(scheduler, sigmas: scheduler.sigmas, fixture)
        }
        print("UniPC trajectories: worst error \(worst) of the sample scale")
    }

    /// To sigma 0, bh1's last step is the first-order update, which lands on the predicted x0;
    /// diffusers' is NaN (B(h) = -infinity times a zero residual). The steps before match.
    func testBh1EndsOnThePredictedSample() throws {
        let fixture = try XCTUnwrap(try SchedulerFixture.cases("dpm", "unipc").first { $0.name == "nan_last_bh1_order2_10" })
        let scheduler = try UniPCMultistepScheduler(config: fixture.config())
        XCTAssertEqual(scheduler.solverType, .bh1)
        try scheduler.setTimesteps(fixture.steps)
        XCTAssertEqual(scheduler.timesteps, try fixture.tensor("timesteps").scalars)
        var x = try fixture.tensor("x")
        let c = try fixture.tensor("c"), samples = try fixture.tensor("samples")
        for (i, t) in scheduler.timesteps.enumerated() {
            let eps = SchedulerFixture.model(x, t, c)
            let level = NoiseLevel(sigma: scheduler.sigmas[i])
            let x0 = x.scalars.indices.map { (x.scalars[$0] - level.sigma * eps.scalars[$0]) / level.alpha }
            x = scheduler.step(modelOutput: eps, timestep: t, sample: x) { XCTFail("noise drawn"); return x }
            if i + 1 < fixture.steps {
                let expected = samples.entry(i), scale = Swift.max(expected.scalars.map(abs).max() ?? 1, 1)
                assertClose(x, expected, atol: 1e-5 * scale, rtol: 0, "step \(i)")
            } else {
                XCTAssert(samples.entry(i).scalars.allSatisfy(\.isNaN))
                assertClose(x, Tensor(shape: x.shape, x0), atol: 1e-6, rtol: 1e-6, "last step")
            }
        }
    }

    func testDefaultsAndUnsupportedKeys() throws {
        let scheduler = try UniPCMultistepScheduler(config: SchedulerConfig())
        XCTAssertEqual(scheduler.solverOrder, 2)
        XCTAssertEqual(scheduler.solverType, .bh2)
        XCTAssertTrue(scheduler.predictX0)
        XCTAssertTrue(scheduler.lowerOrderFinal)
        XCTAssertEqual(scheduler.disableCorrector, [])
        XCTAssertEqual(scheduler.timesteps.count, 1000)
        try scheduler.setTimesteps(4)
        XCTAssertEqual(scheduler.timesteps, [999, 749, 500, 250])
        XCTAssertThrowsError(try scheduler.setTimesteps(0))
        XCTAssertTrue(try SchedulerKind.uniPC.make(config: SchedulerConfig()) is UniPCMultistepScheduler)

        // DPM-Solver's solver types read as bh2; its lambda_min_clipped is not UniPC's
        var compatible = SchedulerConfig()
        compatible.solverType = "midpoint"
        compatible.lambdaMinClipped = -1
        let read = try UniPCMultistepScheduler(config: compatible)
        XCTAssertEqual(read.solverType, .bh2)
        try read.setTimesteps(4)
        XCTAssertEqual(read.timesteps, [999, 749, 500, 250])

        func check(_ field: String, line: UInt = #line, _ change: (inout SchedulerConfig) -> Void) {
            var config = SchedulerConfig()
            change(&config)
            XCTAssertThrowsError(try UniPCMultistepScheduler(config: config), line: line) { error in
                XCTAssertEqual((error as? ConfigError)?.field, field, "\(error)", line: line)
            }
        }
        check("solver_order") { $0.solverOrder = 0 }
        check("solver_type") { $0.solverType = "bh3" }
        check("lower_order_final") { $0.lowerOrderFinal = false }
        check("predict_x0") { $0.predictX0 = false }
        check("final_sigmas_type") { $0.finalSigmasType = "max" }
        check("thresholding") { $0.thresholding = true }
        check("use_exponential_sigmas") { $0.useExponentialSigmas = true }
        check("use_flow_sigmas") { $0.useFlowSigmas = true }
        check("sigma_min") { $0.sigmaMin = 0 }
        // with a final sigma_min both are fine, as is lower_order_final false at order 1
        var config = SchedulerConfig()
        config.lowerOrderFinal = false
        config.solverOrder = 1
        XCTAssertNoThrow(try UniPCMultistepScheduler(config: config))
        config.solverOrder = 3
        config.predictX0 = false
        config.finalSigmasType = "sigma_min"
        XCTAssertNoThrow(try UniPCMultistepScheduler(config: config))
    }

    /// Gaussian elimination with partial pivoting, on a system that needs a row swap.
    func testSolveLinearSystem() {
        let x = solveLinearSystem([[0, 2, 1], [1, 1, 1], [2, 1, 3]], [7, 6, 13])
        for (value, expected) in zip(x, [1, 2, 3] as [Float]) { XCTAssertEqual(value, expected, accuracy: 1e-5) }
    }
}
