import Foundation
import NN
import XCTest
@testable import Diffusion

/// EulerScheduler and EulerAncestralScheduler against diffusers' EulerDiscreteScheduler and
/// EulerAncestralDiscreteScheduler (Tests/Fixtures/make_euler_fixtures.py).
final class EulerSchedulerTests: XCTestCase {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/diffusion/euler")

    /// One fixture case: its tensors (names without the case prefix) and its metadata.
    private struct FixtureCase {
        let name: String
        let tensors: [String: Tensor]
        let info: [String: Any]

        func tensor(_ key: String) throws -> Tensor {
            try XCTUnwrap(tensors[key], "\(name): no tensor \(key)")
        }

        func config() throws -> SchedulerConfig {
            let data = try JSONSerialization.data(withJSONObject: try XCTUnwrap(info["config"]))
            return try SchedulerConfig(json: data, path: name)
        }

        var steps: Int { info["steps"] as! Int }
        var options: [String: Double] { info["options"] as? [String: Double] ?? [:] }
    }

    private func cases(_ file: String) throws -> [FixtureCase] {
        let contents = try SafeTensors.read(from: Self.folder.appendingPathComponent("\(file).safetensors"))
        return try contents.metadata.keys.filter { $0 != "made_by" }.sorted().map { name in
            let info = try JSONSerialization.jsonObject(with: Data(contents.metadata[name]!.utf8)) as! [String: Any]
            var tensors: [String: Tensor] = [:]
            for (key, value) in contents.tensors where key.hasPrefix(name + ".") {
                tensors[String(key.dropFirst(name.count + 1))] = value
            }
            return FixtureCase(name: name, tensors: tensors, info: info)
        }
    }

    /// The stand-in model of the fixtures: 0.3 m + sin(t / 100) c for the scaled model input m.
    private func model(_ m: Tensor, _ t: Float, _ c: Tensor) -> Tensor {
        Tensor.combination(0.3, m, Float(sin(Double(t) / 100)), c)
    }

    /// The k-th entry along the first axis.
    private func entry(_ tensor: Tensor, _ k: Int) -> Tensor {
        let inner = Array(tensor.shape.dropFirst()), size = tensor.count / tensor.shape[0]
        return Tensor(shape: inner, Array(tensor.scalars[(k * size)..<((k + 1) * size)]))
    }

    /// Runs a fixture trajectory: the sample after each step to within 1e-5 of the sample scale.
    /// Returns how many steps drew noise.
    @discardableResult
    private func runTrajectory(_ scheduler: Scheduler, _ fixture: FixtureCase) throws -> Int {
        try scheduler.setTimesteps(fixture.steps)
        let expectedTimesteps = try fixture.tensor("timesteps").scalars
        XCTAssertEqual(scheduler.timesteps, expectedTimesteps, fixture.name)
        var x = try fixture.tensor("x")
        let c = try fixture.tensor("c"), samples = try fixture.tensor("samples")
        let noise = fixture.tensors["noise"]
        var draws = 0
        for (i, t) in scheduler.timesteps.enumerated() {
            let output = model(scheduler.scaleModelInput(x, timestep: t), t, c)
            x = scheduler.step(modelOutput: output, timestep: t, sample: x) {
                draws += 1
                guard let noise else { XCTFail("\(fixture.name): noise drawn"); return Tensor.zeros(x.shape) }
                return self.entry(noise, i)
            }
            let expected = entry(samples, i)
            let scale = expected.scalars.map(abs).max() ?? 1
            assertClose(x, expected, atol: 1e-5 * Swift.max(scale, 1), rtol: 0, "\(fixture.name) step \(i)")
        }
        return draws
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
        var karras = SchedulerConfig()
        karras.useKarrasSigmas = true
        XCTAssertThrowsError(try EulerScheduler(config: karras)) { error in
            XCTAssertEqual((error as? ConfigError)?.field, "use_karras_sigmas")
        }
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
}
