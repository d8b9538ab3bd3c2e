import NN
import XCTest
@testable import Imaging

final class BatchSamplerTests: XCTestCase {
    func testEpochsArePermutationsAndDependOnlyOnSeedAndIndex() {
        let sampler = BatchSampler(count: 10, batchSize: 4, seed: 7, randomFlip: true)
        XCTAssertEqual(sampler.batchesPerEpoch, 3)
        let epoch0 = (0..<3).flatMap { sampler.batch($0).indices }
        let epoch1 = (3..<6).flatMap { sampler.batch($0).indices }
        XCTAssertEqual(epoch0.sorted(), Array(0..<10))
        XCTAssertEqual(epoch1.sorted(), Array(0..<10))
        XCTAssertNotEqual(epoch0, epoch1)
        XCTAssertEqual(sampler.batch(2).indices.count, 2, "the last batch of an epoch holds the rest")
        // A fresh sampler asked for batch 4 directly (a resumed run) agrees.
        let resumed = BatchSampler(count: 10, batchSize: 4, seed: 7, randomFlip: true)
        XCTAssertEqual(resumed.batch(4).indices, sampler.batch(4).indices)
        XCTAssertEqual(resumed.batch(4).flips, sampler.batch(4).flips)
        XCTAssertNotEqual(BatchSampler(count: 10, batchSize: 4, seed: 8, randomFlip: true).batch(0).indices, sampler.batch(0).indices)
    }

    func testFlipsAreBalancedAndOffWhenDisabled() {
        let sampler = BatchSampler(count: 1000, batchSize: 1000, seed: 1, randomFlip: true)
        let flipped = sampler.batch(0).flips.filter { $0 }.count
        XCTAssertGreaterThan(flipped, 430)
        XCTAssertLessThan(flipped, 570)
        XCTAssertFalse(BatchSampler(count: 10, batchSize: 5, seed: 1, randomFlip: false).batch(0).flips.contains(true))
    }
}
