import Foundation
import NN
import XCTest
@testable import Diffusion

/// One case of a scheduler fixture file made by a Tests/Fixtures/make_*_fixtures.py script: its
/// tensors (names without the "<case>." prefix) and its metadata ("config", "steps", ...).
struct SchedulerFixture {
    let name: String
    let tensors: [String: Tensor]
    let info: [String: Any]

    /// The cases of Tests/Fixtures/diffusion/`folder`/`file`.safetensors, sorted by name.
    static func load(_ file: String, folder: String) throws -> [SchedulerFixture] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/diffusion/\(folder)/\(file).safetensors")
        let contents = try SafeTensors.read(from: url)
        return try contents.metadata.keys.filter { $0 != "made_by" }.sorted().map { name in
            let info = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contents.metadata[name]!.utf8)) as? [String: Any])
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

    /// The case's config as a scheduler_config.json with those keys would be read.
    func config() throws -> SchedulerConfig {
        let data = try JSONSerialization.data(withJSONObject: try XCTUnwrap(info["config"]))
        return try SchedulerConfig(json: data, path: name)
    }

    var steps: Int { info["steps"] as! Int }

    /// The stand-in model of the fixtures: 0.3 m + sin(t / 100) c for the scaled model input m.
    static func model(_ m: Tensor, _ t: Float, _ c: Tensor) -> Tensor {
        Tensor.combination(0.3, m, Float(sin(Double(t) / 100)), c)
    }

    /// Runs the case's trajectory with a scheduler that draws no noise, from setTimesteps on:
    /// the timesteps exactly, and the sample after each model evaluation to within `tolerance`
    /// of the sample scale (the largest magnitude of diffusers' sample, at least 1). Returns the
    /// largest error seen, relative to that scale.
    @discardableResult
    func assertTrajectory(_ scheduler: Scheduler, tolerance: Float = 1e-5,
                          file: StaticString = #filePath, line: UInt = #line) throws -> Float {
        try scheduler.setTimesteps(steps)
        XCTAssertEqual(scheduler.timesteps, try tensor("timesteps").scalars, name, file: file, line: line)
        var x = try tensor("x")
        let c = try tensor("c"), samples = try tensor("samples")
        XCTAssertEqual(samples.shape[0], scheduler.timesteps.count, name, file: file, line: line)
        var worst: Float = 0
        for (k, t) in scheduler.timesteps.enumerated() {
            let output = Self.model(scheduler.scaleModelInput(x, timestep: t), t, c)
            x = scheduler.step(modelOutput: output, timestep: t, sample: x) {
                XCTFail("\(name): noise drawn", file: file, line: line)
                return x
            }
            let expected = samples.entry(k)
            let scale = Swift.max(expected.scalars.map(abs).max() ?? 1, 1)
            assertClose(x, expected, atol: tolerance * scale, rtol: 0, "\(name) evaluation \(k)", file: file, line: line)
            worst = Swift.max(worst, (zip(x.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0) / scale)
        }
        return worst
    }
}

extension Tensor {
    /// The k-th entry along the first axis.
    func entry(_ k: Int) -> Tensor {
        let inner = Array(shape.dropFirst()), size = count / shape[0]
        return Tensor(shape: inner, Array(scalars[(k * size)..<((k + 1) * size)]))
    }
}
