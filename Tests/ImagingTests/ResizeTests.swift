import NN
import XCTest
@testable import Imaging

/// Resizing and fitting against Pillow (Tests/Fixtures/make_resize_fixtures.py).
final class ResizeTests: XCTestCase {
    private func image(_ tensor: Tensor) -> Image {
        Image(width: tensor.shape[1], height: tensor.shape[0], channels: tensor.shape[2],
              pixels: tensor.scalars.map { UInt8($0) })
    }

    func testMatchesPillowPixelForPixel() throws {
        let file = try SafeTensors.read(from: fixtureFolder.appendingPathComponent("imaging/resize.safetensors"))
        let names = file.metadata.keys.filter { $0 != "made_by" }.sorted()
        XCTAssertEqual(names.count, 10)
        for name in names {
            let input = image(try XCTUnwrap(file["\(name).input"]))
            let expected = image(try XCTUnwrap(file["\(name).output"]))
            let target = try XCTUnwrap(file.metadata[name])
            let result: Image
            if target.hasPrefix("fit=") {
                result = input.fitted(to: Int(target.dropFirst(4))!)
            } else {
                let size = target.dropFirst(7).split(separator: ",").map { Int($0)! }
                result = input.resized(width: size[0], height: size[1])
            }
            XCTAssertEqual(result.width, expected.width, name)
            XCTAssertEqual(result.height, expected.height, name)
            XCTAssertEqual(result.pixels, expected.pixels, "\(name) differs from Pillow")
        }
    }

    func testImageAtResolutionPassesThroughUntouched() {
        let pixels = (0..<(8 * 8 * 3)).map { UInt8($0 % 256) }
        let image = Image(width: 8, height: 8, channels: 3, pixels: pixels)
        XCTAssertEqual(image.fitted(to: 8), image)
    }
}
