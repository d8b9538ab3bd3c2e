import Foundation
import NN
import XCTest
@testable import Diffusion

/// DPMSolverMultistepScheduler against diffusers' DPMSolverMultistepScheduler
/// (Tests/Fixtures/make_dpm_fixtures.py).
final class DPMSolverSchedulerTests: XCTestCase {
    /// Compares a run's timesteps (exactly) and sigmas (to 1e-6 relative) with diffusers'. diffusers'
    /// trailing spacing has one step too many for some counts (a final timestep -1); the Swift run
    /// is the first `count` steps, then the final sigma.
    static func checkSchedule(_ scheduler: Scheduler, sigmas: [Float], _ fixture: SchedulerFixture,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        var timesteps = try fixture.tensor("timesteps").scalars
        var expectedSigmas = try fixture.tensor("sigmas").scalars
        if timesteps.count == fixture.steps + 1 {
            XCTAssertEqual(timesteps.last, -1, fixture.name, file: file, line: line)
            XCTAssertEqual(fixture.info["config"].flatMap { ($0 as? [String: Any])?["timestep_spacing"] as? String },
                           "trailing", fixture.name, file: file, line: line)
            timesteps.removeLast()
            expectedSigmas.remove(at: fixture.steps)
        }
        XCTAssertEqual(scheduler.timesteps, timesteps, fixture.name, file: file, line: line)
        assertClose(Tensor(shape: [sigmas.count], sigmas), Tensor(shape: [expectedSigmas.count], expectedSigmas),
                    atol: 0, rtol: 1e-6, fixture.name, file: file, line: line)
    }

    func testSchedulesMatchDiffusers() throws {
        let all = try SchedulerFixture.cases("dpm", "schedules").filter { $0.name.hasPrefix("dpm_") }
        XCTAssertEqual(all.count, 97)
        let refused = try SchedulerFixture.checkSchedules(all, make: { try DPMSolverMultistepScheduler(config: $0.config()) }) { scheduler, fixture in
            try Self.checkSchedule(scheduler, sigmas: scheduler.sigmas, fixture)
            XCTAssertEqual(scheduler.initNoiseSigma, 1)
        }
        XCTAssert(refused > 0 && refused < 8, "\(refused) runs refused")
    }

    func testTrajectoriesMatchDiffusers() throws {
        let all = try SchedulerFixture.cases("dpm", "dpm")
        XCTAssertEqual(all.count, 45)
        var worst: Float = 0
        for fixture in all {
            let scheduler: Scheduler
            switch fixture.info["solver_order"] as? Int {
            case 2: scheduler = try SchedulerKind.dpmSolver2M.make(config: fixture.config())
            case 3: scheduler = try SchedulerKind.dpmSolver3M.make(config: fixture.config())
            case nil: scheduler = try DPMSolverMultistepScheduler(config: fixture.config())
            case let order: return XCTFail("\(fixture.name): solver_order \(order!)")
            }
            worst = max(worst, try fixture.runTrajectory(scheduler).worst)
            try Self.checkSchedule(scheduler, sigmas: (scheduler as! DPMSolverMultistepScheduler).sigmas, fixture)
        }
        print("DPM-Solver trajectories: worst error \(worst) of the sample scale")
    }

    /// The kinds set solver_order whatever the config says; the config's other keys stand.
    func testKindsSetTheSolverOrder() throws {
        var config = SchedulerConfig()
        config.solverOrder = 1
        config.solverType = "heun"
        for (kind, order) in [(SchedulerKind.dpmSolver2M, 2), (.dpmSolver3M, 3)] {
            let scheduler = try XCTUnwrap(try kind.make(config: config) as? DPMSolverMultistepScheduler)
            XCTAssertEqual(scheduler.solverOrder, order)
            XCTAssertEqual(scheduler.solverType, .heun)
        }
        XCTAssertEqual(SchedulerKind(rawValue: "dpmpp-2m"), .dpmSolver2M)
        XCTAssertEqual(SchedulerKind(rawValue: "dpmpp-3m"), .dpmSolver3M)
    }

    func testDefaultsAndUnsupportedKeys() throws {
        let scheduler = try DPMSolverMultistepScheduler(config: SchedulerConfig())
        XCTAssertEqual(scheduler.solverOrder, 2)
        XCTAssertEqual(scheduler.algorithm, .dpmSolverPlusPlus)
        XCTAssertEqual(scheduler.solverType, .midpoint)
        XCTAssertTrue(scheduler.lowerOrderFinal)
        XCTAssertFalse(scheduler.eulerAtFinal)
        // before setTimesteps: all training timesteps, as diffusers' constructor sets them
        XCTAssertEqual(scheduler.timesteps.count, 1000)
        XCTAssertEqual(scheduler.timesteps.first, 999)
        try scheduler.setTimesteps(4)
        XCTAssertEqual(scheduler.timesteps, [999, 749, 500, 250])
        XCTAssertEqual(scheduler.sigmas.last, 0)
        XCTAssertThrowsError(try scheduler.setTimesteps(0))
        XCTAssertThrowsError(try scheduler.setTimesteps(1001))

        // UniPC's solver types read as midpoint, deis as dpmsolver++; fixed variances are ignored
        var compatible = SchedulerConfig()
        compatible.solverType = "bh2"
        compatible.algorithmType = "deis"
        compatible.varianceType = "fixed_small"
        let read = try DPMSolverMultistepScheduler(config: compatible)
        XCTAssertEqual(read.solverType, .midpoint)
        XCTAssertEqual(read.algorithm, .dpmSolverPlusPlus)

        func check(_ field: String, line: UInt = #line, _ change: (inout SchedulerConfig) -> Void) {
            var config = SchedulerConfig()
            change(&config)
            XCTAssertThrowsError(try DPMSolverMultistepScheduler(config: config), line: line) { error in
                XCTAssertEqual((error as? ConfigError)?.field, field, "\(error)", line: line)
            }
        }
        check("solver_order") { $0.solverOrder = 4 }
        check("solver_order") { $0.solverOrder = 0 }
        check("algorithm_type") { $0.algorithmType = "sde-dpmsolver++" }
        check("final_sigmas_type") { $0.algorithmType = "dpmsolver" }
        check("final_sigmas_type") { $0.finalSigmasType = "max" }
        check("solver_type") { $0.solverType = "euler" }
        check("variance_type") { $0.varianceType = "learned_range" }
        check("thresholding") { $0.thresholding = true }
        check("trained_betas") { $0.trainedBetas = [0.1, 0.2] }
        check("prediction_type") { $0.predictionType = "flow_prediction" }
        check("timestep_spacing") { $0.timestepSpacing = "karras" }
        check("use_lu_lambdas") { $0.useLuLambdas = true }
        check("use_exponential_sigmas") { $0.useExponentialSigmas = true }
        check("use_beta_sigmas") { $0.useBetaSigmas = true }
        check("use_flow_sigmas") { $0.useFlowSigmas = true }
        check("lambda_min_clipped") { $0.lambdaMinClipped = .nan }
    }

    /// diffusers writes lambda_min_clipped's default as the bare word -Infinity (Python's json);
    /// such a file reads, and writes back the same way.
    func testReadsDiffusersConfigWithInfinity() throws {
        let text = """
            {"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpmsolver++",
             "lambda_min_clipped": -Infinity, "solver_order": 3, "use_karras_sigmas": true,
             "_note": "the word -Infinity in a string stays", "disable_corrector": []}
            """
        let config = try SchedulerConfig(json: Data(text.utf8), path: "scheduler_config.json")
        XCTAssertEqual(config.lambdaMinClipped, -.infinity)
        XCTAssertEqual(config.solverOrder, 3)
        XCTAssertEqual(config.useKarrasSigmas, true)
        XCTAssertEqual(config.disableCorrector, [])
        let written = try config.jsonData()
        XCTAssert(String(decoding: written, as: UTF8.self).contains("-Infinity"))
        XCTAssertEqual(try SchedulerConfig(json: written, path: "again"), config)
        XCTAssertThrowsError(try SchedulerConfig(json: Data("{\"a\": -Infinit}".utf8), path: "bad"))
        let scheduler = try DPMSolverMultistepScheduler(config: config)
        try scheduler.setTimesteps(10)
        XCTAssertEqual(scheduler.timesteps.count, 10)
    }
}
