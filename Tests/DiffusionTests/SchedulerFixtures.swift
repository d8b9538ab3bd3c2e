import Foundation
import NN
import XCTest
@testable import Diffusion

/// One case of a diffusers scheduler fixture file (Tests/Fixtures/make_euler_fixtures.py,
/// make_dpm_fixtures.py): its tensors (names without the case prefix) and its metadata.
struct SchedulerFixture {
    let name: String
    let tensors: [String: Tensor]
    let info: [String: Any]

    /// The cases of Tests/Fixtures/diffusion/`folder`/`file`.safetensors, by name.
    static func cases(_ folder: String, _ file: String) throws -> [SchedulerFixture] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/diffusion/\(folder)/\(file).safetensors")
        let contents = try SafeTensors.read(from: url)
        return try contents.metadata.keys.filter { $0 != "made_by" }.sorted().map { name in
            let info = try JSONSerialization.jsonObject(with: Data(contents.metadata[name]!.utf8)) as! [String: Any]
            var tensors: [String: Tensor] = [:]
            for (key, value) in contents.tensors where key.hasPrefix(name + ".") {
                tensors[String(key.dropFirst(name.count + 1))] = value
            }
            return SchedulerFixture(name: name, tensors: tensors, info: info)
        }
    }

    func tensor(_ key: String) throws -> Tensor {
        try XCTUnwrap(tensors[key], "\(name): no tensor \(key)")
    }

    /// The case's scheduler config, read as a scheduler_config.json.
    func config() throws -> SchedulerConfig {
        let data = try JSONSerialization.data(withJSONObject: try XCTUnwrap(info["config"]))
        return try SchedulerConfig(json: data, path: name)
    }

    var steps: Int { info["steps"] as! Int }
    var options: [String: Double] { info["options"] as? [String: Double] ?? [:] }

    /// The stand-in model of the fixtures: 0.3 m + sin(t / 100) c for the scaled model input m.
    static func model(_ m: Tensor, _ t: Float, _ c: Tensor) -> Tensor {
        Tensor.combination(0.3, m, Float(sin(Double(t) / 100)), c)
    }

    /// Runs the case's trajectory with `scheduler`: its timesteps exactly (or to within
    /// `timestepTolerance`), and the sample after each step to within `tolerance` of the sample scale
    /// (at least 1). Returns how many steps drew noise (handed out from the "noise" tensor, step by
    /// step) and the worst error relative to the scale.
    @discardableResult
    func runTrajectory(_ scheduler: Scheduler, tolerance: Float = 1e-5, timestepTolerance: Float = 0,
                       file: StaticString = #filePath, line: UInt = #line) throws -> (draws: Int, worst: Float) {
        try scheduler.setTimesteps(steps)
        let expectedTimesteps = try tensor("timesteps")
        if timestepTolerance == 0 {
            XCTAssertEqual(scheduler.timesteps, expectedTimesteps.scalars, name, file: file, line: line)
        } else {
            assertClose(Tensor(shape: [scheduler.timesteps.count], scheduler.timesteps), expectedTimesteps,
                        atol: timestepTolerance, rtol: 0, name, file: file, line: line)
        }
        var x = try tensor("x")
        let c = try tensor("c"), samples = try tensor("samples"), noise = tensors["noise"]
        var draws = 0
        var worst: Float = 0
        for (i, t) in scheduler.timesteps.enumerated() {
            let output = Self.model(scheduler.scaleModelInput(x, timestep: t), t, c)
            x = scheduler.step(modelOutput: output, timestep: t, sample: x) {
                draws += 1
                guard let noise else { XCTFail("\(name): noise drawn", file: file, line: line); return Tensor.zeros(x.shape) }
                return noise.entry(i)
            }
            let expected = samples.entry(i)
            let scale = Swift.max(expected.scalars.map(abs).max() ?? 1, 1)
            worst = Swift.max(worst, zip(x.scalars, expected.scalars).map { abs($0 - $1) / scale }.max() ?? 0)
            assertClose(x, expected, atol: tolerance * scale, rtol: 0, "\(name) step \(i)", file: file, line: line)
        }
        return (draws, worst)
    }
}

extension SchedulerFixture {
    /// Sets each schedule case's run on a scheduler from `make` and checks it with `check`, except
    /// the cases whose first timestep repeats (Karras levels reaching past the largest training
    /// sigma: diffusers starts at the second and fails at the end), which must be refused.
    /// Returns how many were refused.
    static func checkSchedules<S: Scheduler>(_ cases: [SchedulerFixture], make: (SchedulerFixture) throws -> S,
                                             check: (S, SchedulerFixture) throws -> Void) throws -> Int {
        var refused = 0
        for fixture in cases {
            let scheduler = try make(fixture)
            let expected = try fixture.tensor("timesteps").scalars
            if expected.count > 1 && expected[0] == expected[1] {
                XCTAssertThrowsError(try scheduler.setTimesteps(fixture.steps), fixture.name)
                refused += 1
                continue
            }
            try scheduler.setTimesteps(fixture.steps)
            try check(scheduler, fixture)
        }
        return refused
    }
}

extension Tensor {
    /// The k-th entry along the first axis.
    func entry(_ k: Int) -> Tensor {
        let inner = Array(shape.dropFirst()), size = count / shape[0]
        return Tensor(shape: inner, Array(scalars[(k * size)..<((k + 1) * size)]))
    }
}
