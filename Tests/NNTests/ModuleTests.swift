import XCTest
@testable import NN

/// A two-level module with PyTorch-style names, as a diffusers block nests its layers.
private final class Block: Module {
    let norm = GroupNorm(groups: 1, channels: 2)
    let convs: [Conv2d]
    init(seeds: inout SeedSequence) {
        convs = [Conv2d(2, 2, kernelSize: 3, padding: 1, seeds: &seeds), Conv2d(2, 2, kernelSize: 1, bias: false, seeds: &seeds)]
    }
    var namedParameters: [(name: String, parameter: Variable)] { prefixed("norm", norm) + prefixed("convs", convs) }
}

final class ModuleTests: XCTestCase {
    func testStateDictNamesFollowPyTorch() {
        var seeds = SeedSequence(seed: 0)
        let block = Block(seeds: &seeds)
        XCTAssertEqual(Set(block.stateDict().keys),
                       ["norm.weight", "norm.bias", "convs.0.weight", "convs.0.bias", "convs.1.weight"])
    }

    func testLoadStateDictRoundTripsAndRejectsMismatches() throws {
        var seeds = SeedSequence(seed: 0)
        let source = Block(seeds: &seeds), target = Block(seeds: &seeds)
        XCTAssertNotEqual(source.convs[0].weight.value.scalars, target.convs[0].weight.value.scalars)
        try target.load(stateDict: source.stateDict())
        XCTAssertEqual(source.convs[0].weight.value.scalars, target.convs[0].weight.value.scalars)

        var missing = source.stateDict()
        missing["convs.1.weight"] = nil
        XCTAssertThrowsError(try target.load(stateDict: missing)) { XCTAssertTrue("\($0)".contains("missing convs.1.weight")) }
        var wrongShape = source.stateDict()
        wrongShape["norm.bias"] = .zeros([3])
        let before = target.norm.bias.value.scalars
        XCTAssertThrowsError(try target.load(stateDict: wrongShape)) { XCTAssertTrue("\($0)".contains("norm.bias")) }
        XCTAssertEqual(target.norm.bias.value.scalars, before, "a failed load changes nothing")
        var extra = source.stateDict()
        extra["head.weight"] = .zeros([1])
        XCTAssertThrowsError(try target.load(stateDict: extra)) { XCTAssertTrue("\($0)".contains("unexpected head.weight")) }
    }

    func testInitializationIsPyTorchsUniformBound() {
        var seeds = SeedSequence(seed: 5)
        let layer = Linear(16, 300, seeds: &seeds)
        let values = layer.weight.value.scalars
        XCTAssertLessThanOrEqual(values.map(abs).max()!, 0.25)
        XCTAssertGreaterThan(values.map(abs).max()!, 0.24)
    }
}
