import Foundation

/// The tensors and metadata of one safetensors file.
public struct SafeTensorsFile {
    /// The tensors by name, converted to Float32.
    public var tensors: [String: Tensor]
    /// The string pairs stored under `__metadata__` (empty when the file has none).
    public var metadata: [String: String]

    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? { tensors[name] }
}

/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors).
///
/// A file is an 8-byte little-endian header size N, then N bytes of UTF-8 JSON mapping each
/// tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (plus an optional
/// `"__metadata__"` object of strings), then the byte buffer the offsets point into.
/// Numbers are little-endian and row-major.
public enum SafeTensors {
    /// The largest header accepted, as in the reference implementation; it keeps a corrupt
    /// size field from causing a huge allocation.
    static let maxHeaderSize = 100_000_000

    static let metadataKey = "__metadata__"

    /// Reads every tensor of the file at `url`, converting F32, F16, BF16 and F64 data to Float32.
    ///
    /// The whole header is validated before any tensor is decoded; every problem is thrown as a
    /// `FileFormatError`.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        try decode(readFileBytes(url), path: url.path)
    }

    /// Decodes the bytes of a safetensors file, naming `path` in every `FileFormatError`.
    public static func decode(_ bytes: Data, path: String) throws -> SafeTensorsFile {
        func failure(_ reason: String) -> FileFormatError { FileFormatError(path: path, reason: reason) }

        guard bytes.count >= 8 else {
            throw failure("file has \(bytes.count) bytes, too few for the 8-byte header size")
        }
        let headerSize = loadInteger(bytes, at: 0, as: UInt64.self)
        guard headerSize <= UInt64(maxHeaderSize) else {
            throw failure("header size \(headerSize) exceeds the limit of \(maxHeaderSize) bytes")
        }
        guard headerSize <= UInt64(bytes.count - 8) else {
            throw failure("header size \(headerSize) exceeds the \(bytes.count - 8) bytes after the size field")
        }
        let bufferStart = 8 + Int(headerSize)
        let layout = try parseHeader(bytes.subdata(in: 8..<bufferStart),
                                     bufferSize: bytes.count - bufferStart, failure: failure)

        var tensors: [String: Tensor] = [:]
        for entry in layout.entries {
            tensors[entry.name] = entry.dtype.decode(bytes, offset: bufferStart + entry.begin, shape: entry.shape)
        }
        return SafeTensorsFile(tensors: tensors, metadata: layout.metadata)
    }

    /// Writes `tensors` as F32 with `metadata` to `url`, replacing it atomically.
    ///
    /// Header keys are in sorted (UTF-8 byte) order and the tensors' data is laid out in the
    /// same order; the header is padded with spaces to a multiple of 8 bytes so the data is aligned.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        guard tensors[metadataKey] == nil else {
            throw FileFormatError(path: url.path, reason: "\"\(metadataKey)\" is reserved and cannot name a tensor")
        }
        let names = tensors.keys.sorted(by: utf8Order)
        var headerEntries: [(key: String, json: String)] = []
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let end = offset + tensor.count * 4
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            headerEntries.append((name, "{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"))
            offset = end
        }
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted(by: utf8Order).map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            headerEntries.append((metadataKey, "{\(pairs.joined(separator: ","))}"))
        }
        headerEntries.sort { utf8Order($0.key, $1.key) }
        var header = Array("{\(headerEntries.map { "\(jsonString($0.key)):\($0.json)" }.joined(separator: ","))}".utf8)
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        try writeFileAtomically(to: url) { sink in
            try withUnsafeBytes(of: UInt64(header.count).littleEndian) { try sink.write($0) }
            try sink.write(header)
            for name in names {
                try tensors[name]!.withUnsafeBufferPointer { try sink.writeNumbers($0) { $0.bitPattern } }
            }
        }
    }

    /// Orders strings by their UTF-8 bytes, as the reference implementation sorts names.
    static func utf8Order(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": literal += "\\\""
            case "\\": literal += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                literal += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: literal.unicodeScalars.append(scalar)
            }
        }
        return literal + "\""
    }
}

// MARK: - Header

/// A stored element type and how it becomes Float32.
enum SafeTensorsDType: String {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"

    var itemSize: Int {
        switch self {
        case .f16, .bf16: 2
        case .f32: 4
        case .f64: 8
        }
    }

    /// Decodes a tensor of `shape` stored at `bytes[offset...]`.
    func decode(_ bytes: Data, offset: Int, shape: [Int]) -> Tensor {
        switch self {
        case .f32: decodeTensor(bytes, offset: offset, as: UInt32.self, order: .little, shape: shape) { Float(bitPattern: $0) }
        case .f64: decodeTensor(bytes, offset: offset, as: UInt64.self, order: .little, shape: shape) { Float(Double(bitPattern: $0)) }
        case .f16: decodeTensor(bytes, offset: offset, as: UInt16.self, order: .little, shape: shape, convert: floatFromHalfBits)
        // bfloat16 is the upper half of a float32.
        case .bf16: decodeTensor(bytes, offset: offset, as: UInt16.self, order: .little, shape: shape) { Float(bitPattern: UInt32($0) << 16) }
        }
    }
}

/// The IEEE 754 half-precision number with bits `bits`, widened exactly to Float32.
///
/// Done by hand rather than with `Float16`, which macOS on Intel lacks.
@inline(__always)
func floatFromHalfBits(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 == 0 ? 1 : -1
    let exponent = UInt32(bits >> 10) & 0x1F
    let fraction = UInt32(bits & 0x3FF)
    switch exponent {
    case 0:
        // Zero or subnormal: fraction × 2⁻²⁴, exact in Float32.
        return sign * Float(fraction) * 0x1p-24
    case 0x1F:
        // Infinity or NaN (the NaN payload is kept).
        return Float(bitPattern: UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | fraction << 13)
    default:
        // Normal: rebias the exponent from 15 to 127.
        return Float(bitPattern: UInt32(bits & 0x8000) << 16 | (exponent + 112) << 23 | fraction << 13)
    }
}

/// One tensor's entry in the header, validated.
struct SafeTensorsEntry {
    var name: String
    var dtype: SafeTensorsDType
    var shape: [Int]
    /// Byte range within the buffer that follows the header.
    var begin: Int, end: Int
}

/// What the header describes, validated against the buffer.
struct SafeTensorsLayout {
    var entries: [SafeTensorsEntry]
    var metadata: [String: String]
}

extension SafeTensors {
    /// Parses and validates the JSON header: entry syntax, dtypes, shapes, offsets within the
    /// `bufferSize`-byte buffer, sizes that match the shapes, and ranges that tile the buffer.
    static func parseHeader(
        _ json: Data, bufferSize: Int, failure: (String) -> FileFormatError
    ) throws -> SafeTensorsLayout {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch {
            throw failure("header is not valid JSON")
        }
        if let problem = StrictJSON.problem(in: json) { throw failure("header is not valid JSON: \(problem)") }
        guard case .object(let fields) = root else { throw failure("header is not a JSON object") }

        var layout = SafeTensorsLayout(entries: [], metadata: [:])
        // Sorted, so that a file with several problems always reports the same one.
        for name in fields.keys.sorted(by: utf8Order) {
            if name == metadataKey {
                layout.metadata = try parseMetadata(fields[name]!, failure: failure)
            } else {
                layout.entries.append(try parseEntry(name, fields[name]!, bufferSize: bufferSize) {
                    failure("tensor \(jsonString(name)): \($0)")
                })
            }
        }
        try checkTiling(layout.entries, bufferSize: bufferSize, failure: failure)
        return layout
    }

    private static func parseMetadata(_ value: JSONValue, failure: (String) -> FileFormatError) throws -> [String: String] {
        guard case .object(let pairs) = value else {
            throw failure("\(metadataKey) is not a JSON object")
        }
        var metadata: [String: String] = [:]
        for (key, value) in pairs {
            guard case .string(let text) = value else {
                throw failure("\(metadataKey) value for \(jsonString(key)) is not a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(
        _ name: String, _ value: JSONValue, bufferSize: Int, failure: (String) -> FileFormatError
    ) throws -> SafeTensorsEntry {
        guard case .object(let fields) = value else { throw failure("entry is not a JSON object") }
        guard case .string(let dtypeName)? = fields["dtype"] else { throw failure("dtype is missing or not a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw failure("unsupported dtype \(jsonString(dtypeName)) (supported: F32, F16, BF16, F64)")
        }
        guard let shape = fields["shape"]?.nonNegativeIntegers else {
            throw failure("shape is missing or not an array of non-negative integers")
        }
        guard let offsets = fields["data_offsets"]?.nonNegativeIntegers, offsets.count == 2 else {
            throw failure("data_offsets is missing or not two non-negative integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else { throw failure("data_offsets [\(begin), \(end)] end before they begin") }
        guard end <= bufferSize else {
            throw failure("data_offsets [\(begin), \(end)] extend past the end of the \(bufferSize)-byte buffer")
        }
        guard let size = byteCount(of: shape, itemSize: dtype.itemSize) else {
            throw failure("shape \(shape) has too many elements")
        }
        guard size == end - begin else {
            throw failure("shape \(shape) of \(dtypeName) needs \(size) bytes but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// Checks that no two tensors share a byte and that together they cover the whole buffer.
    private static func checkTiling(
        _ entries: [SafeTensorsEntry], bufferSize: Int, failure: (String) -> FileFormatError
    ) throws {
        // Empty tensors own no bytes, so they cannot overlap anything.
        let ranges = entries.filter { $0.begin < $0.end }.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        // Sorted by start, any overlap shows up between neighbours.
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.begin < previous.end {
            throw failure("tensors \(jsonString(previous.name)) and \(jsonString(next.name)) overlap")
        }
        // A gap is where an entry is missing: say where, between which tensors.
        func gap(_ begin: Int, _ end: Int, after previous: String?, before next: String?) -> FileFormatError {
            let place = [previous.map { "after tensor \(jsonString($0))" }, next.map { "before tensor \(jsonString($0))" }]
                .compactMap { $0 }.joined(separator: ", ")
            return failure("bytes \(begin)..<\(end) of the buffer belong to no tensor (\(place.isEmpty ? "the whole buffer" : place)): "
                           + "the header lacks an entry")
        }
        var position = 0
        for (index, range) in ranges.enumerated() {
            if range.begin > position { throw gap(position, range.begin, after: index > 0 ? ranges[index - 1].name : nil, before: range.name) }
            position = range.end
        }
        if position < bufferSize { throw gap(position, bufferSize, after: ranges.last?.name, before: nil) }
    }
}

/// A parsed JSON value; integers are kept apart from other numbers so shapes and offsets can
/// be checked exactly.
indirect enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The elements, when this is an array of integers that are all zero or more.
    var nonNegativeIntegers: [Int]? {
        guard case .array(let elements) = self else { return nil }
        var integers: [Int] = []
        integers.reserveCapacity(elements.count)
        for element in elements {
            guard case .integer(let value) = element, value >= 0 else { return nil }
            integers.append(value)
        }
        return integers
    }
}
