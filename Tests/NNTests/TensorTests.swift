import XCTest
@testable import NN

final class TensorTests: XCTestCase {
    func testCopyOnWrite() {
        let a = Tensor(shape: [2, 2], [1, 2, 3, 4])
        var b = a
        b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        XCTAssertEqual(a.scalars, [1, 2, 3, 4])
        XCTAssertEqual(b.scalars, [9, 2, 3, 4])
    }

    func testReshapeAndPermute() {
        let t = Tensor(shape: [2, 3], [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(t.permuted([1, 0]).scalars, [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(t.permuted([1, 0]).shape, [3, 2])
        let cube = Tensor(shape: [2, 2, 2], (0..<8).map(Float.init))
        XCTAssertEqual(cube.permuted([2, 0, 1]).scalars, [0, 2, 4, 6, 1, 3, 5, 7])
        XCTAssertEqual(t.reshaped([3, 2]).shape, [3, 2])
        // The batched-transpose path against the general one (a 3-axis cycle has none).
        let big = Tensor.randn([3, 37, 45], seed: 5)
        let swapped = big.permuted([0, 2, 1])
        XCTAssertEqual(swapped.shape, [3, 45, 37])
        XCTAssertEqual(swapped.permuted([0, 2, 1]).scalars, big.scalars)
        XCTAssertEqual(swapped.scalars[(1 * 45 + 7) * 37 + 30], big.scalars[(1 * 37 + 30) * 45 + 7])
    }

    func testBroadcastingArithmeticAndReductions() {
        let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual((x + Tensor(shape: [3], [10, 20, 30])).scalars, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((x * Tensor(shape: [2, 1], [2, 3])).scalars, [2, 4, 6, 12, 15, 18])
        XCTAssertEqual((Tensor(shape: [2, 1], [1, 2]) - Tensor(shape: [1, 3], [1, 2, 3])).scalars, [0, -1, -2, 1, 0, -1])
        XCTAssertEqual(x.sum(axes: [0]).scalars, [5, 7, 9])
        XCTAssertEqual(x.sum(axes: [1]).scalars, [6, 15])
        XCTAssertEqual(x.sum(), 21)
        XCTAssertEqual((x * 2 + 1).scalars, [3, 5, 7, 9, 11, 13])
    }

    func testPhiloxKnownAnswer() {
        // Random123's known-answer vector for philox4x32-10 with zero counter and key.
        XCTAssertEqual(Philox(seed: 0).block(0), SIMD4(0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8))
    }

    func testNoiseDependsOnlyOnSeedAndPosition() {
        let whole = Tensor.randn([10, 7], seed: 42)
        // Shards of the stream, starting at any element, reproduce the whole.
        let tail = Tensor.randn([33], seed: 42, offset: 37)
        XCTAssertEqual(Array(whole.scalars[37...]), tail.scalars)
        XCTAssertNotEqual(Tensor.randn([70], seed: 43).scalars, whole.scalars)
    }

    func testNoiseStatistics() {
        let normal = Tensor.randn([100_000], seed: 7).scalars
        let mean = normal.reduce(0, +) / Float(normal.count)
        let variance = normal.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(normal.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        let uniform = Tensor.rand([100_000], seed: 7).scalars
        XCTAssertTrue(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(uniform.reduce(0, +) / Float(uniform.count), 0.5, accuracy: 0.01)
    }

    func testInferenceRecordsNothing() {
        var seeds = SeedSequence(seed: 3)
        let layer = Conv2d(1, 2, kernelSize: 3, padding: 1, seeds: &seeds)
        let out = silu(layer(Variable(.randn([1, 1, 4, 4], seed: 1))))
        XCTAssertNil(out.tape)
        XCTAssertFalse(out.requiresGradient)
        let tape = Tape()
        _ = silu(layer(tape.input(.randn([1, 1, 4, 4], seed: 1))))
        XCTAssertEqual(tape.count, 2)
    }

    func testWatchedParametersRecordOpsWithoutTapedInputs() {
        var seeds = SeedSequence(seed: 4)
        let table = Embedding(count: 3, dimension: 2, seeds: &seeds)
        let tape = Tape(watching: table.parameters)
        let loss = table([2, 2, 0]).mean()
        tape.backward(from: loss)
        let sixth: Float = 1 / 6
        XCTAssertEqual(table.weight.gradient?.scalars, [sixth, sixth, 0, 0, 2 * sixth, 2 * sixth])
        XCTAssertEqual(tape.count, 0, "backward clears the tape")
    }
}
