import XCTest
@testable import NN

/// Optimizer, gradient clipping and EMA against PyTorch and diffusers, and a small model that learns.
final class TrainingTests: XCTestCase {
    func testAdamWMatchesPyTorchOverThreeSteps() throws {
        let file = try fixture("adamw")
        for testCase in ["a", "b"] {
            let settings = file.metadata[testCase]
            func number(_ key: String) throws -> Double { try XCTUnwrap(metadataNumber(settings, key), key) }
            let parameter = Variable.parameter(try file.tensor(testCase, "p0"))
            let optimizer = AdamW(parameters: [parameter], learningRate: try number("lr"), beta1: try number("beta1"),
                                  beta2: try number("beta2"), eps: try number("eps"), weightDecay: try number("weight_decay"))
            for step in 1...3 {
                parameter.gradient = try file.tensor(testCase, "g\(step)")
                optimizer.update()
                XCTAssertNil(parameter.gradient, "the update consumes the gradient")
                // A few float32 ulps of parameters near 1.
                assertClose(parameter.value, try file.tensor(testCase, "p\(step)"), atol: 5e-7, rtol: 1e-6, "\(testCase) step \(step)")
            }
            assertClose(optimizer.firstMoments[0], try file.tensor(testCase, "exp_avg"), atol: 1e-7, rtol: 1e-5)
            assertClose(optimizer.secondMoments[0], try file.tensor(testCase, "exp_avg_sq"), atol: 1e-9, rtol: 1e-5)
        }
    }

    func testGradientClippingMatchesPyTorch() throws {
        let file = try fixture("clip_grad")
        for testCase in ["a", "b"] {
            let first = Variable.parameter(.zeros([3, 4])), second = Variable.parameter(.zeros([5]))
            first.gradient = try file.tensor(testCase, "g1")
            second.gradient = try file.tensor(testCase, "g2")
            let norm = clipGradientNorm([first, second], maxNorm: 1)
            XCTAssertEqual(norm, try file.tensor(testCase, "total_norm").item, accuracy: 1e-5)
            assertClose(try XCTUnwrap(first.gradient), try file.tensor(testCase, "g1_clipped"), atol: 1e-6)
            assertClose(try XCTUnwrap(second.gradient), try file.tensor(testCase, "g2_clipped"), atol: 1e-6)
        }
    }

    func testEMAMatchesDiffusersEMAModel() throws {
        let file = try fixture("ema")
        let parameter = Variable.parameter(try file.tensor("a", "p0"))
        let ema = ExponentialMovingAverage(parameters: [parameter], maxDecay: 0.9999, useWarmup: true, invGamma: 1, power: 0.75)
        let decays = try XCTUnwrap(file.metadata["a.step_decays"]).split(separator: " ").map { Float($0)! }
        for step in 1...5 {
            XCTAssertEqual(ema.decay(atUpdate: step), decays[step - 1], accuracy: 1e-6)
            parameter.value = try file.tensor("a", "m\(step)")
            ema.update([parameter])
            assertClose(ema.averages[0], try file.tensor("a", "e\(step)"), atol: 1e-6, "EMA after step \(step)")
        }
    }

    /// A tiny conv net fitted to a fixed target: the loss falls, and once the step has run
    /// twice, a further step takes no new memory from the system (buffers are recycled).
    func testSmallModelLearnsAndRecyclesBuffers() {
        BufferPool.shared.releaseAll()
        var seeds = SeedSequence(seed: 1)
        let conv = Conv2d(2, 4, kernelSize: 3, padding: 1, seeds: &seeds)
        let norm = GroupNorm(groups: 2, channels: 4)
        let head = Conv2d(4, 2, kernelSize: 1, seeds: &seeds)
        let parameters = conv.parameters + norm.parameters + head.parameters
        let optimizer = AdamW(parameters: parameters, learningRate: 1e-2, weightDecay: 0)
        let input = Tensor.randn([4, 2, 6, 6], seed: 2), target = Tensor.randn([4, 2, 6, 6], seed: 3) * 0.5

        func step() -> Float {
            let tape = Tape(watching: parameters)
            let loss = mseLoss(head(silu(norm(conv(Variable(input))))), target: target)
            tape.backward(from: loss)
            clipGradientNorm(parameters, maxNorm: 1)
            optimizer.update()
            return loss.value.item
        }
        let first = step()
        _ = step()
        let allocations = BufferPool.shared.systemAllocations
        _ = step()
        XCTAssertEqual(BufferPool.shared.systemAllocations, allocations, "a steady-state step allocated")
        var last = first
        for _ in 0..<60 { last = step() }
        XCTAssertLessThan(last, first * 0.7, "loss went from \(first) to \(last)")
    }
}
