import NN
import XCTest
@testable import Imaging

final class GridTests: XCTestCase {
    func testModelSpaceToPixelsAsDiffusers() {
        // (x / 2 + 0.5) clamped, times 255, rounded: -1 -> 0, 0 -> 128 (127.5 rounds up), 1 -> 255.
        let batch = Tensor(shape: [1, 1, 1, 5], [-2, -1, 0, 0.5, 3])
        XCTAssertEqual(Grid.images(fromBatch: batch)[0].pixels, [0, 0, 128, 191, 255])
    }

    func testLayoutWithGaps() {
        let images = (0..<3).map { Image(width: 2, height: 1, channels: 1, pixels: [UInt8($0), UInt8($0)]) }
        let grid = Grid.make(images, columns: 2, gap: 1, background: 9)
        XCTAssertEqual(grid.width, 2 * 3 + 1)
        XCTAssertEqual(grid.height, 2 * 2 + 1)
        XCTAssertEqual(Array(grid.pixels[7..<14]), [9, 0, 0, 9, 1, 1, 9])
        XCTAssertEqual(Array(grid.pixels[21..<28]), [9, 2, 2, 9, 9, 9, 9])
    }

    func testMagnifiedRepeatsEachPixelAsABlock() {
        // 2 x 1 RGB: a red and a blue pixel.
        let image = Image(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 0, 0, 255])
        let big = image.magnified(by: 2)
        XCTAssertEqual([big.width, big.height, big.channels], [4, 2, 3])
        let row: [UInt8] = [255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]
        XCTAssertEqual(big.pixels, row + row)
        XCTAssertEqual(image.magnified(by: 1), image)
    }
}
