import Foundation
import NN
import XCTest
@testable import Diffusion

/// DDPMScheduler, DDIMScheduler and the noise schedules against diffusers
/// (Tests/Fixtures/make_scheduler_fixtures.py).
final class SchedulerTests: XCTestCase {
    private static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/diffusion/schedulers")

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

        /// num_inference_steps, or nil for the full schedule without set_timesteps.
        var steps: Int? { info["steps"] as? Int }
    }

    /// The cases of a fixture file, by name.
    private func cases(_ file: String) throws -> [FixtureCase] {
        let contents = try SafeTensors.read(from: Self.folder.appendingPathComponent("\(file).safetensors"))
        return try contents.metadata.keys.filter { $0 != "made_by" }.sorted().map { name in
            let info = try JSONSerialization.jsonObject(with: Data(contents.metadata[name]!.utf8)) as! [String: Any]
            var tensors: [String: Tensor] = [:]
            for (key, value) in contents.tensors where key.hasPrefix(name + ".") {
                tensors[String(key.dropFirst(name.count + 1))] = value
            }
            if let whole = contents.tensors[name] { tensors[""] = whole }
            return FixtureCase(name: name, tensors: tensors, info: info)
        }
    }

    /// The stand-in model of the fixtures: 0.25 x + sin(t / 100) c.
    private func model(_ x: Tensor, _ t: Float, _ c: Tensor) -> Tensor {
        Tensor.combination(0.25, x, Float(sin(Double(t) / 100)), c)
    }

    /// The noise of each step, handed out in order, counting the calls.
    private final class NoiseSequence {
        let noise: Tensor?
        private(set) var calls = 0
        init(_ noise: Tensor?) { self.noise = noise }
        func next() -> Tensor {
            defer { calls += 1 }
            guard let noise else { XCTFail("noise drawn where none was expected"); return Tensor.zeros([1]) }
            return noise.item(calls)
        }
    }

    // MARK: Noise schedules

    /// To one unit in the last place; with rescale_betas_zero_snr to 1e-6, as PyTorch's float
    /// sqrt (MKL's) is not correctly rounded: it is 1 ulp off for about a fifth of the inputs.
    func testAlphasCumprodMatchesDiffusers() throws {
        for fixture in try cases("alphas_cumprod") {
            let actual = try fixture.config().noiseSchedule().alphasCumprod
            let expected = try fixture.tensor("")
            if fixture.name.hasSuffix("zero_snr") {
                assertClose(Tensor(shape: expected.shape, actual), expected, atol: 1e-6, rtol: 0, fixture.name)
            } else {
                XCTAssertEqual(actual.count, expected.count, fixture.name)
                for (i, (a, e)) in zip(actual, expected.scalars).enumerated() where abs(a - e) > e.ulp {
                    XCTFail("\(fixture.name): alphas_cumprod[\(i)] is \(a), expected \(e)")
                    break
                }
            }
        }
    }

    // MARK: Timesteps

    func testTimestepsMatchDiffusers() throws {
        for fixture in try cases("timesteps") {
            let config = try fixture.config(), steps = try XCTUnwrap(fixture.steps)
            let scheduler: Scheduler = fixture.name.hasPrefix("ddpm")
                ? try DDPMScheduler(config: config) : try DDIMScheduler(config: config)
            try scheduler.setTimesteps(steps)
            XCTAssertEqual(scheduler.timesteps, try fixture.tensor("").scalars, fixture.name)
        }
    }

    func testTimestepSumsMatchDiffusersForEveryCount() throws {
        let sums = try SafeTensors.read(from: Self.folder.appendingPathComponent("timesteps.safetensors"))
        for spacing in TimestepSpacing.allCases {
            let expected = try XCTUnwrap(sums["sums.\(spacing.rawValue)"]).scalars
            for count in 1...1000 {
                let timesteps = spacing.timesteps(count: count, trainTimesteps: 1000, offset: 0)
                XCTAssertEqual(timesteps.count, count, "\(spacing) \(count)")
                XCTAssertEqual(Float(timesteps.reduce(0, +)), expected[count - 1], "\(spacing) \(count)")
            }
        }
    }

    func testStepCountsOutsideTheTrainingRangeAreRejected() throws {
        for scheduler: Scheduler in [try DDPMScheduler(config: SchedulerConfig()), try DDIMScheduler(config: SchedulerConfig())] {
            XCTAssertThrowsError(try scheduler.setTimesteps(0))
            XCTAssertThrowsError(try scheduler.setTimesteps(-3))
            XCTAssertThrowsError(try scheduler.setTimesteps(1001)) { error in
                XCTAssertTrue("\(error)".contains("1001"), "\(error)")
            }
            XCTAssertNoThrow(try scheduler.setTimesteps(1000))
        }
        var config = SchedulerConfig()
        config.stepsOffset = 1
        // Leading spacing would put the first of 1000 steps at timestep 1000.
        XCTAssertThrowsError(try DDIMScheduler(config: config).setTimesteps(1000))
        XCTAssertNoThrow(try DDIMScheduler(config: config).setTimesteps(999))
    }

    // MARK: DDIM

    func testDDIMTrajectoriesMatchDiffusers() throws {
        for fixture in try cases("ddim") {
            let scheduler = try DDIMScheduler(config: fixture.config())
            scheduler.eta = Float(try XCTUnwrap(fixture.info["eta"] as? Double))
            scheduler.useClippedModelOutput = try XCTUnwrap(fixture.info["use_clipped_model_output"] as? Bool)
            try scheduler.setTimesteps(try XCTUnwrap(fixture.steps))
            XCTAssertEqual(scheduler.timesteps, try fixture.tensor("timesteps").scalars, fixture.name)

            let c = try fixture.tensor("c"), expected = try fixture.tensor("samples")
            let noise = NoiseSequence(fixture.tensors["noise"])
            let scale = expected.scalars.map(abs).max()!
            var x = try fixture.tensor("x")
            for (k, t) in scheduler.timesteps.enumerated() {
                x = scheduler.step(modelOutput: model(x, t, c), timestep: t, sample: x, noise: noise.next)
                assertClose(x, expected.item(k), atol: 1e-5 * scale, rtol: 0, "\(fixture.name) step \(k)")
            }
            XCTAssertEqual(noise.calls, scheduler.eta > 0 ? scheduler.timesteps.count : 0, fixture.name)
        }
    }

    // MARK: DDPM

    func testDDPMStepsMatchDiffusers() throws {
        for fixture in try cases("ddpm") where !fixture.name.hasPrefix("run_") {
            let scheduler = try DDPMScheduler(config: fixture.config())
            if let steps = fixture.steps { try scheduler.setTimesteps(steps) }
            let timesteps = try fixture.tensor("t").scalars
            for (k, t) in timesteps.enumerated() {
                let x = try fixture.tensor("x").item(k), output = try fixture.tensor("model_output").item(k)
                let label = "\(fixture.name) t=\(Int(t))"
                let expectedMean = try fixture.tensor("mean").item(k), expected = try fixture.tensor("sample").item(k)
                let scale = expected.scalars.map(abs).max()!
                let mean = scheduler.step(modelOutput: output, timestep: t, sample: x) { Tensor.zeros(x.shape) }
                assertClose(mean, expectedMean, atol: 1e-5 * scale, rtol: 0, label + " mean")
                let noise = try fixture.tensor("noise").item(k)
                let sample = scheduler.step(modelOutput: output, timestep: t, sample: x) { noise }
                assertClose(sample, expected, atol: 1e-5 * scale, rtol: 0, label)
                let variance = try fixture.tensor("variance").scalars[k]
                XCTAssertEqual(scheduler.variance(at: Int(t)), variance, accuracy: 1e-6 * variance, label + " variance")
            }
        }
    }

    func testDDPMTrajectoriesMatchDiffusers() throws {
        for fixture in try cases("ddpm") where fixture.name.hasPrefix("run_") {
            let scheduler = try DDPMScheduler(config: fixture.config())
            try scheduler.setTimesteps(try XCTUnwrap(fixture.steps))
            XCTAssertEqual(scheduler.timesteps, try fixture.tensor("timesteps").scalars, fixture.name)

            let c = try fixture.tensor("c"), expected = try fixture.tensor("samples")
            let noise = NoiseSequence(try fixture.tensor("noise"))
            let scale = expected.scalars.map(abs).max()!
            var x = try fixture.tensor("x")
            for (k, t) in scheduler.timesteps.enumerated() {
                x = scheduler.step(modelOutput: model(x, t, c), timestep: t, sample: x, noise: noise.next)
                assertClose(x, expected.item(k), atol: 1e-5 * scale, rtol: 0, "\(fixture.name) step \(k)")
            }
            XCTAssertEqual(noise.calls, try XCTUnwrap(fixture.info["noise_calls"] as? Int), fixture.name)
        }
    }

    // MARK: Configs

    func testDefaultsAreEachSchedulersOwn() throws {
        let ddpm = try DDPMScheduler(config: SchedulerConfig())
        XCTAssertEqual(ddpm.varianceType, .fixedSmall)
        XCTAssertEqual(ddpm.timesteps.count, 1000)
        XCTAssertEqual(ddpm.timesteps.first, 999)
        let ddim = try DDIMScheduler(config: SchedulerConfig())
        XCTAssertEqual(ddim.eta, 0)
        XCTAssertFalse(ddim.useClippedModelOutput)
    }

    func testUnsupportedConfigValuesNameTheirKey() {
        func check(_ field: String, _ change: (inout SchedulerConfig) -> Void, ddim: Bool = true,
                   line: UInt = #line) {
            var config = SchedulerConfig()
            change(&config)
            var makers: [() throws -> Scheduler] = [{ try DDPMScheduler(config: config) }]
            if ddim { makers.append { try DDIMScheduler(config: config) } }
            for make in makers {
                XCTAssertThrowsError(try make(), line: line) { error in
                    XCTAssertEqual((error as? ConfigError)?.field, field, "\(error)", line: line)
                }
            }
        }
        check("thresholding") { $0.thresholding = true }
        check("trained_betas") { $0.trainedBetas = [0.1, 0.2] }
        check("beta_schedule") { $0.betaSchedule = "laplace" }
        check("prediction_type") { $0.predictionType = "x0" }
        check("timestep_spacing") { $0.timestepSpacing = "karras" }
        check("steps_offset") { $0.stepsOffset = -1 }
        check("clip_sample_range") { $0.clipSampleRange = 0 }
        check("num_train_timesteps") { $0.numTrainTimesteps = 1 }
        for variance in ["learned", "learned_range", "fixed_large_log", "small"] {
            check("variance_type", { $0.varianceType = variance }, ddim: false)
        }
        // Keys of the other scheduler are ignored, as diffusers ignores them.
        var config = SchedulerConfig()
        config.varianceType = "learned"
        XCTAssertNoThrow(try DDIMScheduler(config: config))
    }

    func testDDIMDrawsNoNoiseAtEtaZeroAndDDPMNoneAtTimestepZero() throws {
        let x = Tensor(shape: [1, 1, 2, 2], [0.1, -0.5, 0.9, 2])
        let ddim = try DDIMScheduler(config: SchedulerConfig())
        try ddim.setTimesteps(4)
        _ = ddim.step(modelOutput: x, timestep: ddim.timesteps[0], sample: x) { XCTFail("noise drawn"); return x }
        let ddpm = try DDPMScheduler(config: SchedulerConfig())
        try ddpm.setTimesteps(4)
        XCTAssertEqual(ddpm.timesteps.last, 0)
        _ = ddpm.step(modelOutput: x, timestep: 0, sample: x) { XCTFail("noise drawn"); return x }
    }
}

private extension Tensor {
    /// The k-th entry along the first axis.
    func item(_ k: Int) -> Tensor {
        let inner = Array(shape.dropFirst()), size = count / shape[0]
        return Tensor(shape: inner, Array(scalars[(k * size)..<((k + 1) * size)]))
    }
}
