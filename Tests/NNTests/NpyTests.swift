import Foundation
import XCTest
@testable import NN

/// Reading NumPy-written .npy fixtures (see Tests/Fixtures/make_io_fixtures.py), round trips,
/// and malformed files, each of which must throw a `FileFormatError` naming the file.
final class NpyTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/io")
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("NpyTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: folder)
    }

    // MARK: - Fixtures written by NumPy

    func testReadsFloat32() throws {
        let array = try Npy.read(from: fixtures.appendingPathComponent("f4_2x3.npy"))
        XCTAssertEqual(array.shape, [2, 3])
        guard case .float32(let values) = array.data else { return XCTFail("expected float32, got \(array.data)") }
        XCTAssertEqual(values, [-0.5, -0.25, 0, 0.25, 0.5, 0.75])
        let tensor = array.tensor()
        XCTAssertEqual(tensor.shape, [2, 3])
        XCTAssertEqual(tensor.scalars, values)
    }

    func testReadsFloat64Exactly() throws {
        let array = try Npy.read(from: fixtures.appendingPathComponent("f8_1d.npy"))
        XCTAssertEqual(array.shape, [5])
        guard case .float64(let values) = array.data else { return XCTFail("expected float64, got \(array.data)") }
        XCTAssertEqual(values.map(\.bitPattern), [0.1, -2.5, 1e300, .leastNonzeroMagnitude, -0.0].map(\.bitPattern))
        XCTAssertEqual(array.doubles.map(\.bitPattern), values.map(\.bitPattern))
    }

    func testReadsInt64Scalar() throws {
        let array = try Npy.read(from: fixtures.appendingPathComponent("i8_scalar.npy"))
        XCTAssertEqual(array.shape, [])
        guard case .int64(let values) = array.data else { return XCTFail("expected int64, got \(array.data)") }
        XCTAssertEqual(values, [-1_234_567_890_123])
        XCTAssertEqual(array.doubles, [-1_234_567_890_123])
        XCTAssertEqual(array.tensor().shape, [])
    }

    func testReadsVersion2And3Headers() throws {
        let v2 = try Npy.read(from: fixtures.appendingPathComponent("f4_v2.npy"))
        XCTAssertEqual(v2.shape, [3])
        XCTAssertEqual(v2.doubles, [1, 2, 3])
        let v3 = try Npy.read(from: fixtures.appendingPathComponent("i8_v3.npy"))
        XCTAssertEqual(v3.shape, [2, 2])
        guard case .int64(let values) = v3.data else { return XCTFail("expected int64, got \(v3.data)") }
        XCTAssertEqual(values, [1, -2, 3, 1 << 62])
    }

    func testConvertsBigEndian() throws {
        let array = try Npy.read(from: fixtures.appendingPathComponent("f4_big_endian.npy"))
        XCTAssertEqual(array.tensor().scalars, [1.5, -0.25])
    }

    func testReadsEmptyArray() throws {
        let array = try Npy.read(from: fixtures.appendingPathComponent("f8_empty.npy"))
        XCTAssertEqual(array.shape, [0, 3])
        XCTAssertEqual(array.doubles, [])
        XCTAssertEqual(array.tensor().count, 0)
    }

    func testRejectsFortranOrder() {
        let url = fixtures.appendingPathComponent("f4_fortran.npy")
        assertFileFormatError(url, mentioning: "Fortran")
    }

    // MARK: - Writing

    func testRoundTripsTensors() throws {
        for shape in [[], [5], [2, 3, 4], [0, 2]] {
            let count = shape.reduce(1, *)
            let tensor = Tensor(shape: shape, (0..<count).map { Float($0) * 0.37 - 1 })
            let url = folder.appendingPathComponent("t.npy")
            try Npy.write(tensor, to: url)
            let array = try Npy.read(from: url)
            XCTAssertEqual(array.shape, shape)
            guard case .float32(let values) = array.data else { return XCTFail("expected float32 for \(shape)") }
            XCTAssertEqual(values, tensor.scalars)
        }
    }

    func testRoundTripsDoublesAndInt64() throws {
        let url = folder.appendingPathComponent("d.npy")
        let doubles = [Double.pi, -0.0, .infinity, 0x1p-1030, -7]
        try Npy.write(doubles, shape: [5, 1], to: url)
        let readDoubles = try Npy.read(from: url)
        XCTAssertEqual(readDoubles.shape, [5, 1])
        XCTAssertEqual(readDoubles.doubles.map(\.bitPattern), doubles.map(\.bitPattern))

        let integers: [Int64] = [.min, -1, 0, 1, .max, 42]
        try Npy.write(integers, shape: [2, 3], to: url)
        let readIntegers = try Npy.read(from: url)
        XCTAssertEqual(readIntegers.shape, [2, 3])
        guard case .int64(let values) = readIntegers.data else { return XCTFail("expected int64") }
        XCTAssertEqual(values, integers)
    }

    func testWritesAlignedVersion1HeaderLikeNumPy() throws {
        let url = folder.appendingPathComponent("h.npy")
        try Npy.write(Tensor(shape: [3, 4], repeating: 1), to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(Array(bytes[0..<8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        XCTAssertEqual(bytes.count, 10 + headerLength + 48)
        let header = String(decoding: bytes[10..<10 + headerLength], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), header)
        XCTAssertTrue(header.hasSuffix(" \n"))
    }

    func testWritesVersion2WhenHeaderExceeds16Bits() throws {
        // 22 000 dimensions of size 1 make a shape tuple of about 66 000 characters.
        let shape = [Int](repeating: 1, count: 22_000)
        let url = folder.appendingPathComponent("big-header.npy")
        try Npy.write(Tensor(shape: shape, [2.5]), to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(bytes[6], 2)
        let headerLength = (8..<12).reduce(0) { $0 | Int(bytes[$1]) << (8 * ($1 - 8)) }
        XCTAssertGreaterThan(headerLength, Int(UInt16.max))
        XCTAssertEqual((12 + headerLength) % 64, 0)
        let array = try Npy.read(from: url)
        XCTAssertEqual(array.shape, shape)
        XCTAssertEqual(array.doubles, [2.5])
    }

    func testWriteRejectsValueCountMismatch() {
        let url = folder.appendingPathComponent("bad.npy")
        XCTAssertThrowsError(try Npy.write([1.0, 2.0, 3.0], shape: [2, 2], to: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
        XCTAssertThrowsError(try Npy.write([Int64](), shape: [-1], to: url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testWriteReplacesFileAndLeavesNoTemporaries() throws {
        let url = folder.appendingPathComponent("replace.npy")
        try Npy.write(Tensor(shape: [100], repeating: 1), to: url)
        try Npy.write(Tensor(shape: [2], [3, 4]), to: url)
        XCTAssertEqual(try Npy.read(from: url).tensor().scalars, [3, 4])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["replace.npy"])
    }

    // MARK: - Malformed files

    func testEveryTruncationThrows() throws {
        let bytes = try Data(contentsOf: fixtures.appendingPathComponent("f4_2x3.npy"))
        for length in 0..<bytes.count {
            assertFileFormatError(write(bytes.prefix(length), as: "truncated-\(length).npy"))
        }
    }

    func testTrailingBytesThrow() throws {
        let bytes = try Data(contentsOf: fixtures.appendingPathComponent("f4_2x3.npy"))
        assertFileFormatError(write(bytes + [0], as: "trailing.npy"), mentioning: "trailing bytes")
    }

    func testMissingFileThrows() {
        assertFileFormatError(folder.appendingPathComponent("missing.npy"), mentioning: "cannot be read")
    }

    func testRejectsBadPreambles() {
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"
        let cases: [(String, [UInt8], String)] = [
            ("bad magic", Array("\u{93}NUMPZ".utf8) + [1, 0, 0, 0], "not an .npy file"),
            ("version 4.0", npyFile(dict, version: 4, data: 4), "version 4.0"),
            ("version 1.1", npyFile(dict, version: 1, minor: 1, data: 4), "version 1.1"),
            ("length field cut", Npy.magic + [2, 0, 0x10, 0], "header length field"),
            ("v1 length past end", Npy.magic + [1, 0, 0xFF, 0xFF] + Array(dict.utf8), "header length 65535"),
            ("v2 length u32 max", Npy.magic + [2, 0, 0xFF, 0xFF, 0xFF, 0xFF] + Array(dict.utf8), "header length 4294967295"),
        ]
        for (name, bytes, reason) in cases {
            assertFileFormatError(write(Data(bytes), as: "\(name).npy"), mentioning: reason, name)
        }
    }

    func testRejectsBadHeaders() {
        let cases: [(String, String, String)] = [
            ("not a dict", "[1, 2]", "expected '{'"),
            ("empty", "", "expected '{'"),
            ("missing shape", "{'descr': '<f4', 'fortran_order': False}", "'shape' is missing"),
            ("unknown key", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': True}", "unexpected key 'extra'"),
            ("duplicate key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "appears twice"),
            ("unsupported descr", "{'descr': '<i4', 'fortran_order': False, 'shape': (1,)}", "unsupported descr '<i4'"),
            ("descr not a string", "{'descr': (4,), 'fortran_order': False, 'shape': (1,)}", "'descr' is missing or not a string"),
            ("fortran_order string", "{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}", "'fortran_order'"),
            ("fortran_order prefix", "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", "expected a string"),
            ("shape list", "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "expected a string"),
            ("shape without comma", "{'descr': '<f4', 'fortran_order': False, 'shape': (4)}", "not a tuple"),
            ("shape float", "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", "expected ')'"),
            ("shape huge literal", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "integer too large"),
            ("negative shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}", "negative dimension"),
            ("overflowing shape", "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", "too many elements"),
            ("overflow beside zero", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4)}", "too many elements"),
            ("bytes overflow", "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", "too many elements"),
            ("unterminated string", "{'descr': '<f4", "unterminated string"),
            ("escape in string", "{'descr': '<f\\4', 'fortran_order': False, 'shape': (1,)}", "escape sequences are not supported"),
            ("text after dict", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "after the dict"),
            ("missing close", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected '}'"),
            ("non-ASCII", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ¡}", "expected a quoted string"),
            ("too little data", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "is truncated"),
        ]
        for (name, dict, reason) in cases {
            assertFileFormatError(write(Data(npyFile(dict, data: 4)), as: "\(name).npy"), mentioning: reason, name)
        }
    }

    // MARK: - Helpers

    /// An .npy file with `dict` as its header (padded like NumPy's) and `data` zero bytes.
    private func npyFile(_ dict: String, version: UInt8 = 1, minor: UInt8 = 0, data: Int) -> [UInt8] {
        var header = Array(dict.utf8)
        header += [UInt8](repeating: 0x20, count: (64 - (10 + header.count + 1) % 64) % 64) + [0x0A]
        let length = [UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + (version == 1 ? [] : [0, 0])
        return Npy.magic + [version, minor] + length + header + [UInt8](repeating: 0, count: data)
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
        XCTAssertThrowsError(try Npy.read(from: url), label, file: file, line: line) { error in
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
