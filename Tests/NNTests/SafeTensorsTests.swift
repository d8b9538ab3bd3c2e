import Foundation
import XCTest
@testable import NN

/// Reading safetensors fixtures written by the Python library (see
/// Tests/Fixtures/make_io_fixtures.py), writing, and malformed files, each of which must throw a
/// `FileFormatError` naming the file.
final class SafeTensorsTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/io")
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: folder)
    }

    // MARK: - Fixtures written by the Python library

    func testReadsEveryFloatDType() throws {
        let file = try SafeTensors.read(from: fixtures.appendingPathComponent("mixed.safetensors"))
        XCTAssertEqual(Set(file.tensors.keys), ["f32", "f16", "f16_nan", "bf16", "f64", "scalar", "empty"])
        XCTAssertEqual(file.metadata, ["note": "fixture"])

        XCTAssertEqual(file["f32"]?.shape, [2, 3])
        XCTAssertEqual(file["f32"]?.scalars, [0, 0.125, 0.25, 0.375, 0.5, 0.625])

        let f16 = try XCTUnwrap(file["f16"])
        XCTAssertEqual(f16.shape, [7])
        // 1/3 rounds to 0x3555 in half precision; 2⁻²⁴ is the smallest subnormal.
        XCTAssertEqual(f16.scalars, [1, -2.5, 65504, 0x1p-24, 0, .infinity, 0.333251953125])
        XCTAssertEqual(f16.scalars[4].sign, .minus)
        XCTAssertTrue(try XCTUnwrap(file["f16_nan"]).item.isNaN)

        XCTAssertEqual(file["bf16"]?.shape, [2, 2])
        XCTAssertEqual(file["bf16"]?.scalars, [1.5, -3, 0.15625, 256])

        XCTAssertEqual(file["f64"]?.scalars, [Float(0.1), -1e10, Float(1e-3)])

        XCTAssertEqual(file["scalar"]?.shape, [])
        XCTAssertEqual(file["scalar"]?.item, 7)
        XCTAssertEqual(file["empty"]?.shape, [0, 4])
        XCTAssertNil(file["absent"])
    }

    func testHalfConversion() {
        // Spot checks at the boundaries between zero, subnormal, normal and special values.
        XCTAssertEqual(floatFromHalfBits(0x0000), 0)
        XCTAssertEqual(floatFromHalfBits(0x03FF), 1023 * 0x1p-24)
        XCTAssertEqual(floatFromHalfBits(0x0400), 0x1p-14)
        XCTAssertEqual(floatFromHalfBits(0x3C00), 1)
        XCTAssertEqual(floatFromHalfBits(0xC000), -2)
        XCTAssertEqual(floatFromHalfBits(0x7BFF), 65504)
        XCTAssertEqual(floatFromHalfBits(0xFC00), -.infinity)
        XCTAssertTrue(floatFromHalfBits(0x7C01).isNaN)
        // Walking every finite half from the most negative to the largest, each converted
        // value must exceed the one before (only -0 and +0 are equal).
        var previous = -Float.infinity
        for bits in (0..<0x7C00).reversed().map({ UInt16($0) | 0x8000 }) + (0..<0x7C00).map({ UInt16($0) }) {
            let value = floatFromHalfBits(bits)
            if bits == 0 { XCTAssertEqual(value, 0); continue }
            XCTAssertGreaterThan(value, previous, "bits \(String(bits, radix: 16))")
            previous = value
        }
    }

    // MARK: - Writing

    func testWriterMatchesPythonBytes() throws {
        let url = folder.appendingPathComponent("pair.safetensors")
        try SafeTensors.write(["b": Tensor(shape: [1, 3], [3, 4, 5]), "a": Tensor(shape: [2], [1, 2])],
                              metadata: ["format": "pt"], to: url)
        let expected = try Data(contentsOf: fixtures.appendingPathComponent("pair.safetensors"))
        XCTAssertEqual(try Data(contentsOf: url), expected)
    }

    func testRoundTrips() throws {
        let tensors: [String: Tensor] = [
            "weight": Tensor(shape: [2, 3], [1, -2, 3.5, .infinity, -0.0, 0x1p-130]),
            "scalar": .scalar(42),
            "empty": .zeros([3, 0]),
            "quote\"back\\slash\nnewline": Tensor(shape: [1], [9]),
            "Ünïcode/名前": Tensor(shape: [2, 1, 1], [5, 6]),
        ]
        let metadata = ["format": "pt", "step": "1200", "tab\t": "\u{1}\"x\""]
        let url = folder.appendingPathComponent("round.safetensors")
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        let file = try SafeTensors.read(from: url)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(Set(file.tensors.keys), Set(tensors.keys))
        for (name, tensor) in tensors {
            XCTAssertEqual(file[name]?.shape, tensor.shape, name)
            XCTAssertEqual(file[name]?.scalars.map(\.bitPattern), tensor.scalars.map(\.bitPattern), name)
        }
    }

    func testHeaderIsSortedAndPadded() throws {
        let url = folder.appendingPathComponent("sorted.safetensors")
        try SafeTensors.write(["b": .scalar(2), "B": .scalar(3), "a": .scalar(1)], metadata: ["k": "v"], to: url)
        let bytes = try Data(contentsOf: url)
        let headerSize = Int(loadInteger(bytes, at: 0, as: UInt64.self))
        XCTAssertEqual(headerSize % 8, 0)
        XCTAssertEqual(bytes.count, 8 + headerSize + 12)
        let header = String(decoding: bytes[8..<8 + headerSize], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces), """
            {"B":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"__metadata__":{"k":"v"},\
            "a":{"dtype":"F32","shape":[],"data_offsets":[4,8]},"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}
            """)
    }

    func testWritesEmptyFile() throws {
        let url = folder.appendingPathComponent("none.safetensors")
        try SafeTensors.write([:], to: url)
        let file = try SafeTensors.read(from: url)
        XCTAssertTrue(file.tensors.isEmpty)
        XCTAssertTrue(file.metadata.isEmpty)
    }

    func testWriteRejectsReservedName() {
        let url = folder.appendingPathComponent("reserved.safetensors")
        XCTAssertThrowsError(try SafeTensors.write(["__metadata__": .scalar(1)], to: url)) { error in
            XCTAssertEqual((error as? FileFormatError)?.path, url.path)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testWriteIntoMissingFolderThrows() {
        let url = folder.appendingPathComponent("no/such/folder/x.safetensors")
        XCTAssertThrowsError(try SafeTensors.write(["a": .scalar(1)], to: url)) { error in
            XCTAssertEqual((error as? FileFormatError)?.path, url.path)
        }
    }

    func testWriteReplacesFileAndLeavesNoTemporaries() throws {
        let url = folder.appendingPathComponent("replace.safetensors")
        try SafeTensors.write(["a": .zeros([1000])], to: url)
        try SafeTensors.write(["b": .scalar(5)], to: url)
        XCTAssertEqual(try SafeTensors.read(from: url).tensors.keys.sorted(), ["b"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["replace.safetensors"])
    }

    // MARK: - Malformed files

    func testEveryTruncationThrows() throws {
        let bytes = try Data(contentsOf: fixtures.appendingPathComponent("mixed.safetensors"))
        for length in 0..<bytes.count {
            assertFileFormatError(write(bytes.prefix(length), as: "truncated-\(length).safetensors"))
        }
    }

    func testTrailingBytesThrow() throws {
        let bytes = try Data(contentsOf: fixtures.appendingPathComponent("pair.safetensors"))
        assertFileFormatError(write(bytes + [0, 0, 0, 0], as: "trailing.safetensors"),
                              mentioning: #"bytes 20..<24 of the buffer belong to no tensor (after tensor "b")"#)
    }

    func testMissingFileThrows() {
        assertFileFormatError(folder.appendingPathComponent("missing.safetensors"), mentioning: "cannot be read")
    }

    func testRejectsBadHeaderSizes() {
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "too few"),
            ("seven bytes", [1, 0, 0, 0, 0, 0, 0], "too few"),
            ("u64 max", [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8), "exceeds the limit"),
            ("over limit", sizeField(200_000_000) + Array("{}".utf8), "exceeds the limit"),
            ("past the end", sizeField(3) + Array("{}".utf8), "exceeds the 2 bytes"),
        ]
        for (name, bytes, reason) in cases {
            assertFileFormatError(write(Data(bytes), as: "\(name).safetensors"), mentioning: reason, name)
        }
    }

    func testRejectsBadHeaders() {
        let deep = String(repeating: "[", count: 100_000)
        let cases: [(String, String, Int, String)] = [
            ("not JSON", "not json", 0, "not valid JSON"),
            ("empty header", "", 0, "not valid JSON"),
            ("deeply nested", deep, 0, "not valid JSON"),
            ("array", "[1, 2]", 0, "not a JSON object"),
            ("entry not object", #"{"a": 5}"#, 0, #"tensor "a": entry is not a JSON object"#),
            ("missing dtype", #"{"a": {"shape": [1], "data_offsets": [0, 4]}}"#, 4, #"tensor "a": dtype is missing"#),
            ("dtype number", #"{"a": {"dtype": 1, "shape": [1], "data_offsets": [0, 4]}}"#, 4, "dtype is missing or not a string"),
            ("unknown dtype", #"{"w": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}}"#, 4, #"tensor "w": unsupported dtype "Q9""#),
            ("integer dtype", #"{"n": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, 8, #"tensor "n": unsupported dtype "I64""#),
            ("negative shape", #"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, 4, "not an array of non-negative integers"),
            ("fractional shape", #"{"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, 4, "not an array of non-negative integers"),
            ("boolean shape", #"{"a": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}"#, 4, "not an array of non-negative integers"),
            ("shape not array", #"{"a": {"dtype": "F32", "shape": 1, "data_offsets": [0, 4]}}"#, 4, "not an array of non-negative integers"),
            ("shape beyond Int", #"{"a": {"dtype": "F32", "shape": [18446744073709551616], "data_offsets": [0, 4]}}"#, 4, "not an array of non-negative integers"),
            ("overflowing shape", #"{"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 4]}}"#, 4, "too many elements"),
            ("overflow beside zero", #"{"a": {"dtype": "F32", "shape": [0, 4294967296, 4294967296], "data_offsets": [0, 0]}}"#, 0, "too many elements"),
            ("bytes overflow", #"{"a": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 8]}}"#, 8, "too many elements"),
            ("one offset", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}"#, 4, "data_offsets is missing"),
            ("negative offset", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}}"#, 4, "data_offsets is missing"),
            ("reversed offsets", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}"#, 8, "end before they begin"),
            ("offsets past end", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 100]}}"#, 8, "past the end of the 8-byte buffer"),
            ("huge offsets", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [9223372036854775800, 9223372036854775804]}}"#, 4, "past the end"),
            ("size mismatch", #"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, 8, "needs 12 bytes but data_offsets [0, 8] hold 8"),
            ("F16 size mismatch", #"{"a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 16]}}"#, 16, "needs 8 bytes"),
            ("overlap", #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
             12, #"tensors "a" and "b" overlap"#),
            ("same range", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#,
             4, "overlap"),
            ("hole at end", #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, 12,
             #"bytes 8..<12 of the buffer belong to no tensor (after tensor "a"): the header lacks an entry"#),
            ("hole at start", #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#, 12, #"bytes 0..<4 of the buffer belong to no tensor (before tensor "a")"#),
            ("hole between", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}"#,
             12, #"bytes 4..<8 of the buffer belong to no tensor (after tensor "a", before tensor "b")"#),
            ("no tensors, some bytes", "{}", 3, "bytes 0..<3 of the buffer belong to no tensor (the whole buffer)"),
            // What Foundation's parser lets through and the reference library refuses:
            ("trailing comma", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},}"#, 4, "a comma before a closing }"),
            ("trailing comma in a list", #"{"a": {"dtype": "F32", "shape": [1,], "data_offsets": [0, 4]}}"#, 4, "a comma before a closing ]"),
            ("duplicate key", #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#,
             4, #"the key "a" comes twice in one object"#),
            ("duplicate field", #"{"a": {"dtype": "F32", "shape": [1], "shape": [1], "data_offsets": [0, 4]}}"#, 4, #"the key "shape" comes twice"#),
            ("metadata array", #"{"__metadata__": ["x"]}"#, 0, "__metadata__ is not a JSON object"),
            ("metadata number", #"{"__metadata__": {"step": 5}}"#, 0, #"__metadata__ value for "step" is not a string"#),
        ]
        for (name, header, bufferSize, reason) in cases {
            let bytes = sizeField(UInt64(header.utf8.count)) + Array(header.utf8) + [UInt8](repeating: 0, count: bufferSize)
            assertFileFormatError(write(Data(bytes), as: "\(name).safetensors"), mentioning: reason, name)
        }
    }

    func testRejectsInvalidUTF8Header() {
        let header: [UInt8] = Array(#"{"a\#u{1}": 1}"#.utf8).map { $0 == 1 ? 0xFF : $0 }
        let url = write(Data(sizeField(UInt64(header.count)) + header), as: "utf8.safetensors")
        assertFileFormatError(url, mentioning: "not valid JSON")
    }

    // MARK: - Helpers

    private func sizeField(_ size: UInt64) -> [UInt8] {
        withUnsafeBytes(of: size.littleEndian) { Array($0) }
    }

    private func write(_ bytes: Data, as name: String) -> URL {
        let url = folder.appendingPathComponent(name)
        XCTAssertNoThrow(try bytes.write(to: url))
        return url
    }

    /// Asserts that reading `url` throws a `FileFormatError` that names it and, if given,
    /// whose reason contains `reason`.
    private func assertFileFormatError(
        _ url: URL, mentioning reason: String? = nil, _ label: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try SafeTensors.read(from: url), label, file: file, line: line) { error in
            guard let error = error as? FileFormatError else {
                return XCTFail("\(label): not a FileFormatError: \(error)", file: file, line: line)
            }
            XCTAssertEqual(error.path, url.path, label, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(url.path + ": "), label, file: file, line: line)
            if let reason {
                XCTAssertTrue(error.reason.contains(reason), "\(label): \(error.reason)", file: file, line: line)
            }
        }
    }
}
