import Foundation

/// An array read from an .npy file: its shape and its numbers in their stored type.
public struct NpyArray {
    /// The numbers in row-major order.
    public enum Data {
        case float32([Float])
        case float64([Double])
        case int64([Int64])

        /// The number of values.
        public var count: Int {
            switch self {
            case .float32(let values): values.count
            case .float64(let values): values.count
            case .int64(let values): values.count
            }
        }
    }

    public var shape: [Int]
    public var data: Data

    public init(shape: [Int], data: Data) {
        self.shape = shape
        self.data = data
    }

    /// The numbers as a Float32 tensor of `shape` (float64 and int64 values are rounded).
    public func tensor() -> Tensor {
        var tensor = Tensor(uninitializedShape: shape)
        precondition(data.count == tensor.count, "NpyArray: \(data.count) values for shape \(shape)")
        let destination = tensor.mutablePointer()
        switch data {
        case .float32(let values):
            values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: $0.count) }
        case .float64(let values):
            for (i, value) in values.enumerated() { destination[i] = Float(value) }
        case .int64(let values):
            for (i, value) in values.enumerated() { destination[i] = Float(value) }
        }
        return tensor
    }

    /// The numbers as Double (exact for float32, rounded for int64 beyond 2⁵³).
    public var doubles: [Double] {
        switch data {
        case .float32(let values): values.map(Double.init)
        case .float64(let values): values
        case .int64(let values): values.map(Double.init)
        }
    }
}

/// Reads and writes NumPy's .npy format
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html) for float32,
/// float64 and int64 arrays in C order.
///
/// A file is the magic `\x93NUMPY`, a major and minor version byte, the header length
/// (u16 little-endian in version 1.0, u32 in 2.0 and 3.0), an ASCII Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and ending
/// in a newline, then the data.
///
/// Reading accepts the descr byte-order marks NumPy accepts for these types: `<`, `|`, `=` or
/// none mean little-endian (the native order on every platform Diffuse runs on), and `>`
/// (big-endian) data is converted. Fortran-ordered arrays are rejected.
public enum Npy {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads the array in the file at `url`; every problem is thrown as a `FileFormatError`.
    public static func read(from url: URL) throws -> NpyArray {
        try decode(readFileBytes(url), path: url.path)
    }

    /// Decodes the bytes of an .npy file, naming `path` in every `FileFormatError`.
    public static func decode(_ bytes: Data, path: String) throws -> NpyArray {
        func failure(_ reason: String) -> FileFormatError { FileFormatError(path: path, reason: reason) }

        guard bytes.count >= magic.count + 2, bytes.prefix(magic.count).elementsEqual(magic) else {
            throw failure("not an .npy file (it does not start with \\x93NUMPY and a version)")
        }
        let (major, minor) = (bytes[6], bytes[7])
        let lengthSize: Int
        switch (major, minor) {
        case (1, 0): lengthSize = 2
        case (2, 0), (3, 0): lengthSize = 4
        default: throw failure("unsupported .npy version \(major).\(minor)")
        }
        let headerStart = 8 + lengthSize
        guard bytes.count >= headerStart else {
            throw failure("file ends inside the header length field")
        }
        let headerLength = lengthSize == 2
            ? Int(loadInteger(bytes, at: 8, as: UInt16.self))
            : Int(loadInteger(bytes, at: 8, as: UInt32.self))
        guard headerLength <= bytes.count - headerStart else {
            throw failure("header length \(headerLength) exceeds the \(bytes.count - headerStart) bytes after the length field")
        }
        let dataStart = headerStart + headerLength

        let header: NpyHeader
        do {
            header = try NpyHeader(parsing: Array(bytes[headerStart..<dataStart]))
        } catch let error as NpyHeader.Problem {
            throw failure("header: \(error.reason)")
        }
        guard !header.fortranOrder else {
            throw failure("Fortran-ordered arrays are not supported")
        }
        guard header.shape.allSatisfy({ $0 >= 0 }) else {
            throw failure("shape \(pythonTuple(header.shape)) has a negative dimension")
        }
        guard let size = byteCount(of: header.shape, itemSize: header.element.itemSize) else {
            throw failure("shape \(pythonTuple(header.shape)) has too many elements")
        }
        let dataSize = bytes.count - dataStart
        guard dataSize == size else {
            let problem = dataSize < size ? "is truncated" : "has trailing bytes"
            throw failure("data \(problem): shape \(pythonTuple(header.shape)) of '\(header.descr)' needs \(size) bytes, file holds \(dataSize)")
        }

        let count = size / header.element.itemSize
        let order = header.order
        let data: NpyArray.Data
        switch header.element {
        case .float32:
            data = .float32(decodeArray(bytes, offset: dataStart, as: UInt32.self, order: order, count: count) { Float(bitPattern: $0) })
        case .float64:
            data = .float64(decodeArray(bytes, offset: dataStart, as: UInt64.self, order: order, count: count) { Double(bitPattern: $0) })
        case .int64:
            data = .int64(decodeArray(bytes, offset: dataStart, as: UInt64.self, order: order, count: count) { Int64(bitPattern: $0) })
        }
        return NpyArray(shape: header.shape, data: data)
    }

    /// Writes `tensor` as a float32 (`'<f4'`) array, replacing `url` atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try write(.float32, shape: tensor.shape, count: tensor.count, to: url) { sink in
            try tensor.withUnsafeBufferPointer { try sink.writeNumbers($0) { $0.bitPattern } }
        }
    }

    /// Writes `values` as a float64 (`'<f8'`) array of `shape`, replacing `url` atomically.
    public static func write(_ values: [Double], shape: [Int], to url: URL) throws {
        try write(.float64, shape: shape, count: values.count, to: url) { sink in
            try values.withUnsafeBufferPointer { try sink.writeNumbers($0) { $0.bitPattern } }
        }
    }

    /// Writes `values` as an int64 (`'<i8'`) array of `shape`, replacing `url` atomically.
    public static func write(_ values: [Int64], shape: [Int], to url: URL) throws {
        try write(.int64, shape: shape, count: values.count, to: url) { sink in
            try values.withUnsafeBufferPointer { try sink.writeNumbers($0) { UInt64(bitPattern: $0) } }
        }
    }

    /// Writes the preamble for `count` elements of `shape`, then the data through `body`.
    ///
    /// The header is padded with spaces so the data starts at a multiple of 64 bytes, as NumPy
    /// does; version 2.0 is used only when the header does not fit a 16-bit length.
    private static func write(
        _ element: NpyElement, shape: [Int], count: Int, to url: URL,
        body: (inout FileSink) throws -> Void
    ) throws {
        guard elementCount(of: shape) == count else {
            throw FileFormatError(path: url.path, reason: "shape \(shape) does not hold \(count) values")
        }
        let dict = Array("{'descr': '<\(element.code)', 'fortran_order': False, 'shape': \(pythonTuple(shape)), }".utf8)
        // The header length counts the dict, its padding and the final newline.
        func paddedHeaderLength(lengthSize: Int) -> Int {
            let unpadded = magic.count + 2 + lengthSize + dict.count + 1
            return dict.count + (64 - unpadded % 64) % 64 + 1
        }
        var (version, lengthSize) = (UInt8(1), 2)
        if paddedHeaderLength(lengthSize: 2) > Int(UInt16.max) {
            (version, lengthSize) = (2, 4)
        }
        let headerLength = paddedHeaderLength(lengthSize: lengthSize)
        var preamble = magic + [version, 0]
        withUnsafeBytes(of: UInt32(headerLength).littleEndian) { preamble += $0.prefix(lengthSize) }
        preamble += dict
        preamble += repeatElement(UInt8(ascii: " "), count: headerLength - dict.count - 1)
        preamble.append(UInt8(ascii: "\n"))
        try writeFileAtomically(to: url) { sink in
            try sink.write(preamble)
            try body(&sink)
        }
    }

    /// `shape` as Python writes a tuple: `()`, `(5,)`, `(3, 4)`.
    static func pythonTuple(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
    }
}

/// An element type the .npy reader and writer support.
enum NpyElement {
    case float32, float64, int64

    /// The descr without its byte-order mark, e.g. `f4`.
    var code: String {
        switch self {
        case .float32: "f4"
        case .float64: "f8"
        case .int64: "i8"
        }
    }

    var itemSize: Int { self == .float32 ? 4 : 8 }
}

/// The parsed and checked header dict of an .npy file.
struct NpyHeader {
    /// A reason the header is not acceptable.
    struct Problem: Error {
        let reason: String
    }

    var descr: String
    var element: NpyElement
    var order: ByteOrder
    var fortranOrder: Bool
    /// Not yet checked for negative or overflowing dimensions.
    var shape: [Int]

    /// Parses `bytes`, which must be exactly one dict literal with the keys `descr`,
    /// `fortran_order` and `shape`, followed only by whitespace.
    init(parsing bytes: [UInt8]) throws {
        var parser = PythonLiteralParser(bytes: bytes)
        let dict = try parser.parseDict()
        for key in dict.keys where !["descr", "fortran_order", "shape"].contains(key) {
            throw Problem(reason: "unexpected key '\(key)'")
        }
        guard case .string(let descr)? = dict["descr"] else { throw Problem(reason: "'descr' is missing or not a string") }
        guard case .bool(let fortranOrder)? = dict["fortran_order"] else {
            throw Problem(reason: "'fortran_order' is missing or not True or False")
        }
        guard case .tuple(let shape)? = dict["shape"] else { throw Problem(reason: "'shape' is missing or not a tuple") }
        (element, order) = try NpyHeader.parseDescr(descr)
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    /// The element type and byte order of a descr such as `<f4`.
    private static func parseDescr(_ descr: String) throws -> (NpyElement, ByteOrder) {
        var code = Substring(descr)
        var order = ByteOrder.little
        if let mark = code.first, "<>|=".contains(mark) {
            order = mark == ">" ? .big : .little
            code = code.dropFirst()
        }
        switch code {
        case "f4": return (.float32, order)
        case "f8": return (.float64, order)
        case "i8": return (.int64, order)
        default:
            throw Problem(reason: "unsupported descr '\(descr)' (supported: '<f4', '<f8', '<i8' and their big-endian forms)")
        }
    }
}

/// A parser for the small subset of Python literals .npy headers use: a dict of string keys to
/// strings, `True`/`False` and tuples of integers.
struct PythonLiteralParser {
    enum Value {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    private let bytes: [UInt8]
    private var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses the one dict that must make up the whole input, apart from surrounding whitespace.
    mutating func parseDict() throws -> [String: Value] {
        skipWhitespace()
        try expect("{")
        var dict: [String: Value] = [:]
        skipWhitespace()
        while !consume("}") {
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            guard dict.updateValue(try parseValue(), forKey: key) == nil else {
                throw problem("key '\(key)' appears twice")
            }
            skipWhitespace()
            if !consume(",") {
                skipWhitespace()
                try expect("}")
                break
            }
            skipWhitespace()
        }
        skipWhitespace()
        guard position == bytes.count else { throw problem("unexpected text after the dict") }
        return dict
    }

    private mutating func parseValue() throws -> Value {
        switch peek {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "("): return .tuple(try parseTuple())
        default:
            if consumeWord("True") { return .bool(true) }
            if consumeWord("False") { return .bool(false) }
            throw problem("expected a string, True, False or a tuple")
        }
    }

    /// A quoted string without escapes (no header value needs one).
    private mutating func parseString() throws -> String {
        guard let quote = peek, quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
            throw problem("expected a quoted string")
        }
        position += 1
        let start = position
        // Like Python, a string must close on its own line.
        while let byte = peek, byte != quote, byte != UInt8(ascii: "\n") {
            guard byte != UInt8(ascii: "\\") else { throw problem("escape sequences are not supported") }
            position += 1
        }
        guard peek == quote else { throw problem("unterminated string") }
        position += 1
        return String(decoding: bytes[start..<position - 1], as: UTF8.self)
    }

    /// A tuple of integers; like Python, a one-element tuple needs its trailing comma.
    private mutating func parseTuple() throws -> [Int] {
        try expect("(")
        var elements: [Int] = []
        var trailingComma = false
        skipWhitespace()
        while !consume(")") {
            elements.append(try parseInteger())
            skipWhitespace()
            trailingComma = consume(",")
            if !trailingComma {
                try expect(")")
                break
            }
            skipWhitespace()
        }
        if elements.count == 1 && !trailingComma { throw problem("(n) is not a tuple; a one-element tuple is written (n,)") }
        return elements
    }

    private mutating func parseInteger() throws -> Int {
        let negative = consume("-")
        var value = 0
        var digits = 0
        while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw problem("integer too large") }
            value = next
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw problem("expected an integer") }
        return negative ? -value : value
    }

    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position += 1
        }
    }

    /// Consumes `symbol` if it comes next.
    private mutating func consume(_ symbol: Unicode.Scalar) -> Bool {
        guard peek == UInt8(ascii: symbol) else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ symbol: Unicode.Scalar) throws {
        guard consume(symbol) else { throw problem("expected '\(symbol)'") }
    }

    /// Consumes `word` if it comes next as a whole identifier.
    private mutating func consumeWord(_ word: String) -> Bool {
        let end = position + word.utf8.count
        guard end <= bytes.count, bytes[position..<end].elementsEqual(word.utf8) else { return false }
        if end < bytes.count, isIdentifierByte(bytes[end]) { return false }
        position = end
        return true
    }

    private func isIdentifierByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
    }

    private func problem(_ what: String) -> NpyHeader.Problem {
        NpyHeader.Problem(reason: "\(what) at byte \(position) of the dict")
    }
}
