import Evaluation
import Foundation
import Imaging
import NN

/// Memorization of training images (Gu et al., "On Memorization in Diffusion Models"): pixel
/// distances over sqrt(C H W) from each generated image to its two nearest training images; a
/// generated image copies one when d1 / d2 < 1/3. Draws the closest pairs side by side.
enum MemorizationCheck {
    static let pairsShown = 8

    static func run(fake: String, train: String, size: Int, channels: Int, pairs: URL) throws -> (rate: Double, trainCount: Int) {
        let fakeSet = try ImageDataset.load(folder: URL(fileURLWithPath: fake), resolution: size, channels: channels)
        let trainSet = try ImageDataset.load(folder: URL(fileURLWithPath: train), resolution: size, channels: channels)
        let scale = 1 / Float(channels * size * size).squareRoot()
        let fakePixels = fakeSet.tensor() * scale, trainPixels = trainSet.tensor() * scale
        let neighbours = try Memorization.nearestTwo(queries: FeatureMatrix(fakePixels), references: FeatureMatrix(trainPixels))
        let copies = neighbours.filter { $0.firstDistance < $0.secondDistance / 3 }.count
        let closest = neighbours.enumerated().sorted { $0.element.firstDistance < $1.element.firstDistance }.prefix(pairsShown)
        var images: [Image] = []
        let fakeImages = Grid.images(fromBatch: fakeSet.tensor()), trainImages = Grid.images(fromBatch: trainSet.batch(closest.map(\.element.first)))
        for (slot, pair) in closest.enumerated() { images += [fakeImages[pair.offset], trainImages[slot]] }
        try PNG.write(Grid.make(images, columns: 2), to: pairs)
        return (Double(copies) / Double(fakeSet.count), trainSet.count)
    }
}
