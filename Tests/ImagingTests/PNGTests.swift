import Foundation
import Imaging
import NN
import XCTest

/// Tests of the PNG codec against the files and Pillow-made arrays that
/// Tests/Fixtures/make_png_fixtures.py writes (its docstring lists them). Helpers such as
/// `assertFileError` and `temporaryFolder` are in Support.swift.
final class PNGTests: XCTestCase {
    /// One entry of png/index.json.
    struct Fixture: Decodable {
        let width: Int
        let height: Int
        let bitDepth: Int
        let colorType: String
        let interlaced: Bool
    }

    func fixture(_ name: String) -> URL { fixtureFolder.appendingPathComponent("png/\(name)") }

    func loadIndex() throws -> [String: Fixture] {
        try JSONDecoder().decode([String: Fixture].self, from: Data(contentsOf: fixture("index.json")))
    }

    func expectedPixels(_ name: String, _ mode: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixture("expected/\(name).\(mode).bin")))
    }

    // MARK: - Decoding

    func testEveryFixtureDecodesToPillowsArrays() throws {
        let index = try loadIndex()
        XCTAssertGreaterThanOrEqual(index.count, 46)
        for (name, entry) in index.sorted(by: { $0.key < $1.key }) {
            let url = fixture("\(name).png")
            for (channels, mode) in [(1, "L"), (3, "RGB")] {
                let image = try PNG.read(from: url, channels: channels)
                XCTAssertEqual(image.width, entry.width, name)
                XCTAssertEqual(image.height, entry.height, name)
                XCTAssertEqual(image.channels, channels, name)
                XCTAssertEqual(image.pixels, try expectedPixels(name, mode), "\(name) as \(mode)")
            }
        }
    }

    func testFixturesCoverEveryKindInterlacedAndNot() throws {
        let index = try loadIndex()
        let kinds = [("gray", [1, 2, 4, 8, 16]), ("gray+alpha", [8, 16]), ("RGB", [8, 16]),
                     ("RGBA", [8, 16]), ("palette", [1, 2, 4, 8])]
        for (colorType, depths) in kinds {
            for depth in depths {
                for interlaced in [false, true] {
                    XCTAssertTrue(index.values.contains {
                        $0.colorType == colorType && $0.bitDepth == depth && $0.interlaced == interlaced
                    }, "no \(depth)-bit \(colorType) fixture with interlaced \(interlaced)")
                }
            }
        }
    }

    func testInfoReadsTheHeader() throws {
        let index = try loadIndex()
        for (name, entry) in index {
            let info = try PNG.info(of: fixture("\(name).png"))
            XCTAssertEqual(info.width, entry.width, name)
            XCTAssertEqual(info.height, entry.height, name)
            XCTAssertEqual(info.bitDepth, entry.bitDepth, name)
            XCTAssertEqual(info.colorType, entry.colorType, name)
            XCTAssertEqual(info.interlaced, entry.interlaced, name)
            XCTAssertEqual(info.kind, "\(entry.bitDepth)-bit \(entry.colorType)", name)
        }
        XCTAssertEqual(try PNG.info(of: fixture("rgb8.png")).kind, "8-bit RGB")
        XCTAssertEqual(try PNG.info(of: fixture("gray_alpha16_interlaced.png")).kind, "16-bit gray+alpha")
    }

    func testLowBitGrayScalesLikePillow() throws {
        for (depth, allowed) in [(1, [0, 255]), (2, [0, 85, 170, 255]), (4, Array(stride(from: 0, through: 255, by: 17)))] {
            let image = try PNG.read(from: fixture("gray\(depth).png"), channels: 1)
            XCTAssertTrue(Set(image.pixels).isSubset(of: Set(allowed.map(UInt8.init))), "\(depth)-bit gray")
        }
    }

    func testSixteenBitSamplesRoundToNearest() throws {
        // The script stores these samples first: 0, 65535, 128, 129, 25828 (257 * 100 + 128),
        // 25829, 32767, 32768, 255, 256; round(v / 257) of each:
        let image = try PNG.read(from: fixture("gray16.png"), channels: 1)
        XCTAssertEqual(Array(image.pixels.prefix(10)), [0, 255, 0, 1, 100, 101, 127, 128, 1, 1])
    }

    func testDecodeRefusesOtherChannelCounts() throws {
        let data = try [UInt8](Data(contentsOf: fixture("rgb8.png")))
        for channels in [0, 2, 4] {
            assertFileError(try PNG.decode(data, path: "x.png", channels: channels), path: "x.png",
                            reason: "cannot be decoded to \(channels) channels")
        }
    }

    // MARK: - Signature and limits

    func testHasSignature() throws {
        XCTAssertEqual(PNG.signature, [137, 80, 78, 71, 13, 10, 26, 10])
        XCTAssertTrue(PNG.hasSignature(fixture("gray8.png")))
        XCTAssertTrue(PNG.hasSignature(fixture("bad/huge_dimensions.png")))
        XCTAssertFalse(PNG.hasSignature(fixture("bad/not_png.png")))
        XCTAssertFalse(PNG.hasSignature(fixture("bad/empty.png")))
        XCTAssertFalse(PNG.hasSignature(fixture("missing.png")))
        XCTAssertFalse(PNG.hasSignature(fixture("index.json")))
    }

    func testHugeDeclaredDimensionsAreRefusedFromTheHeader() throws {
        // 2^30 x 2^30 RGB would need 3 EiB: the decoder must refuse it before allocating.
        let url = fixture("bad/huge_dimensions.png")
        let info = try PNG.info(of: url)
        XCTAssertEqual([info.width, info.height], [1 << 30, 1 << 30])
        assertFileError(try PNG.read(from: url, channels: 3), path: url.path,
                        reason: "is 1073741824x1073741824 pixels, over the limit of 65536 pixels a side")
    }

    func testSidesOverTheLimitAreRefusedEvenWhenSmall() throws {
        let url = fixture("bad/too_wide.png")  // a valid 70000 x 1 file
        XCTAssertEqual(try PNG.info(of: url).width, 70000)
        assertFileError(try PNG.read(from: url, channels: 1), path: url.path, reason: "is 70000x1 pixels, over the limit")
    }

    func testMaxPixelsIsEnforced() throws {
        let url = fixture("gray8.png")  // 9 x 7 = 63 pixels
        let saved = PNG.maxPixels
        defer { PNG.maxPixels = saved }
        PNG.maxPixels = 62
        assertFileError(try PNG.read(from: url, channels: 1), path: url.path, reason: "more than PNG.maxPixels (62)")
        PNG.maxPixels = 63
        XCTAssertEqual(try PNG.read(from: url, channels: 1).pixels.count, 63)
    }

    // MARK: - Bad input

    func testBadFilesThrowWithAReason() throws {
        let cases: [(String, String)] = [
            ("empty.png", "is empty"),
            ("not_png.png", "wrong signature"),
            ("huge_dimensions.png", "over the limit"),
            ("too_wide.png", "over the limit"),
            ("bad_idat_crc.png", "IDAT: CRC error"),
            ("flipped_idat.png", "is not a readable PNG file"),
            ("bad_zlib.png", "IDAT"),
            ("bad_ihdr_crc.png", "IHDR chunk (CRC mismatch)"),
            ("bad_bit_depth.png", "bit depth 3"),
            ("no_idat.png", "IEND"),
            ("short_idat.png", "image data"),
            ("extra_zlib_data.png", "Too much image data"),
            ("palette_index_out_of_range.png", "palette index exceeding num_palette"),
        ]
        for (name, words) in cases {
            let url = fixture("bad/\(name)")
            for channels in [1, 3] {
                assertFileError(try PNG.read(from: url, channels: channels), path: url.path, reason: words)
            }
        }
    }

    func testMissingFileThrows() {
        let url = fixture("missing.png")
        assertFileError(try PNG.read(from: url, channels: 3), path: url.path, reason: "cannot be read")
        assertFileError(try PNG.info(of: url), path: url.path, reason: "cannot be read")
    }

    /// Asserts that decoding `data` throws a FileFormatError (whatever its reason).
    func assertRefused(_ data: [UInt8], _ message: String, line: UInt = #line) {
        XCTAssertThrowsError(try PNG.decode(data, path: "damaged.png", channels: 3), message, line: line) { error in
            XCTAssertEqual((error as? FileFormatError)?.path, "damaged.png", message, line: line)
        }
    }

    func testEveryTruncationThrows() throws {
        for name in ["gray8_plain", "palette4_trns", "rgb16_gamma045_interlaced", "gray1_13x9_interlaced"] {
            let data = try [UInt8](Data(contentsOf: fixture("\(name).png")))
            XCTAssertNoThrow(try PNG.decode(data, path: name, channels: 3))
            for length in 0..<data.count {
                assertRefused(Array(data.prefix(length)), "\(name) cut to \(length) bytes")
            }
        }
    }

    func testEveryFlippedByteThrows() throws {
        // gray8_plain.png holds only IHDR, IDAT and IEND, all critical and CRC-checked, so any
        // single damaged byte must be noticed.
        let data = try [UInt8](Data(contentsOf: fixture("gray8_plain.png")))
        for offset in data.indices {
            for mask: UInt8 in [0x01, 0x80] {
                var damaged = data
                damaged[offset] ^= mask
                assertRefused(damaged, "byte \(offset) ^ \(mask)")
            }
        }
    }

    // MARK: - Encoding

    /// A deterministic test image with varied pixel values.
    func pattern(width: Int, height: Int, channels: Int) -> Image {
        let count = width * height * channels
        return Image(width: width, height: height, channels: channels,
                     pixels: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 7) })
    }

    func testEncodeDecodeRoundTrip() throws {
        for channels in [1, 3] {
            for (width, height) in [(13, 9), (1, 1), (1, 5), (300, 2)] {
                let image = pattern(width: width, height: height, channels: channels)
                let encoded = try PNG.encode(image)
                XCTAssertEqual(Array(encoded.prefix(8)), PNG.signature)
                XCTAssertEqual(try PNG.decode(encoded, path: "memory", channels: channels), image)
            }
        }
    }

    func testWriteThenReadAndInfo() throws {
        let folder = try temporaryFolder(self)
        let url = folder.appendingPathComponent("image.png")

        let rgb = pattern(width: 11, height: 7, channels: 3)
        try PNG.write(rgb, to: url)
        XCTAssertEqual(try PNG.read(from: url, channels: 3), rgb)
        let info = try PNG.info(of: url)
        XCTAssertEqual(info.kind, "8-bit RGB")
        XCTAssertFalse(info.interlaced)

        // Overwriting replaces the file and leaves no temporary file behind.
        let gray = pattern(width: 5, height: 3, channels: 1)
        try PNG.write(gray, to: url)
        XCTAssertEqual(try PNG.read(from: url, channels: 1), gray)
        XCTAssertEqual(try PNG.info(of: url).kind, "8-bit gray")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["image.png"])
    }

    func testWriteIntoAMissingFolderThrows() {
        let url = fixture("no such folder/image.png")
        assertFileError(try PNG.write(pattern(width: 2, height: 2, channels: 1), to: url), path: url.path,
                        reason: "cannot be written")
    }

    func testEncodeRefusesInconsistentImages() {
        var image = pattern(width: 4, height: 3, channels: 3)
        image.pixels.removeLast()
        assertFileError(try PNG.encode(image), path: "(PNG in memory)", reason: "35 samples do not make a 4x3x3 image")
        let empty = Image(width: 0, height: 4, channels: 1, pixels: [])
        assertFileError(try PNG.encode(empty), path: "(PNG in memory)", reason: "cannot store a 0x4 image")
    }
}
