import Foundation

// Helpers shared by the file formats: whole-file reading, checked size arithmetic, bulk
// decoding of fixed-width numbers, and atomic, buffered writing.

/// The order of bytes within one stored number.
enum ByteOrder {
    case little, big
}

/// The bytes of the file at `url`; failures to read become a `FileFormatError` naming it.
///
/// Plain POSIX reads rather than `Data(contentsOf:)`, which in Swift 6.3's Foundation leaks a
/// 4 KB buffer for every empty file it reads (found by the AddressSanitizer run of the tests).
public func readFileBytes(_ url: URL) throws -> Data {
    func failure() -> FileFormatError {
        FileFormatError(path: url.path, reason: "cannot be read (\(String(cString: strerror(errno))))")
    }
    let descriptor = open(url.path, O_RDONLY)
    guard descriptor >= 0 else { throw failure() }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw failure() }
    /// One read(2) into `buffer`, retried when a signal interrupts it; 0 at the end of the file.
    func readSome(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let got = read(descriptor, buffer.baseAddress, buffer.count)
            if got >= 0 { return got }
            if errno != EINTR { throw failure() }
        }
    }
    // The size the file reports, then on to the end: a file may hold more (it grew, or it is
    // in /proc, which reports 0).
    var bytes = Data(count: max(Int(info.st_size), 0))
    var filled = 0
    while filled < bytes.count {
        let got = try bytes.withUnsafeMutableBytes { try readSome(UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
        if got == 0 { break }
        filled += got
    }
    bytes.count = filled
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let got = try chunk.withUnsafeMutableBytes { try readSome($0) }
        if got == 0 { return bytes }
        bytes.append(contentsOf: chunk[..<got])
    }
}

/// Loads a little-endian fixed-width integer at `offset`; the caller checks the bounds.
func loadInteger<Bits: FixedWidthInteger>(_ bytes: Data, at offset: Int, as _: Bits.Type) -> Bits {
    Bits(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: Bits.self) })
}

/// The number of elements of `shape`, or nil when a dimension is negative or the count
/// does not fit in `Int`.
///
/// Zero dimensions do not excuse an overflow: the product of the non-zero dimensions must fit,
/// so that no partial product taken in any order (as `Tensor` does for sizes and strides) can
/// overflow either.
func elementCount(of shape: [Int]) -> Int? {
    var product = 1
    var hasZero = false
    for dimension in shape {
        if dimension < 0 { return nil }
        if dimension == 0 {
            hasZero = true
            continue
        }
        let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        product = next
    }
    return hasZero ? 0 : product
}

/// The bytes taken by `shape` elements of `itemSize` bytes each, or nil when that is not
/// representable (see `elementCount(of:)`).
func byteCount(of shape: [Int], itemSize: Int) -> Int? {
    guard let count = elementCount(of: shape) else { return nil }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: itemSize)
    return overflow ? nil : bytes
}

/// Decodes `count` numbers stored as `Bits` in `order` at the start of `source` into
/// `destination`, converting each with `convert`. The caller checks that `source` holds them.
///
/// This is the hot loop of every reader (checkpoints hold millions of numbers), so it works on
/// raw pointers and has one loop per byte order instead of a branch per element.
@inline(__always)
func decodeNumbers<Bits: FixedWidthInteger, Element>(
    _ source: UnsafeRawBufferPointer, as _: Bits.Type, order: ByteOrder,
    count: Int, into destination: UnsafeMutablePointer<Element>,
    convert: (Bits) -> Element
) {
    precondition(source.count >= count * MemoryLayout<Bits>.size, "decodeNumbers: source too short")
    let size = MemoryLayout<Bits>.size
    switch order {
    case .little:
        for i in 0..<count {
            destination[i] = convert(Bits(littleEndian: source.loadUnaligned(fromByteOffset: i * size, as: Bits.self)))
        }
    case .big:
        for i in 0..<count {
            destination[i] = convert(Bits(bigEndian: source.loadUnaligned(fromByteOffset: i * size, as: Bits.self)))
        }
    }
}

/// Decodes `count` numbers from `bytes[offset...]` into a new array (see `decodeNumbers`).
func decodeArray<Bits: FixedWidthInteger, Element>(
    _ bytes: Data, offset: Int, as bits: Bits.Type, order: ByteOrder, count: Int,
    convert: (Bits) -> Element
) -> [Element] {
    bytes.withUnsafeBytes { raw in
        let source = UnsafeRawBufferPointer(rebasing: raw[offset...])
        return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                decodeNumbers(source, as: bits, order: order, count: count, into: buffer.baseAddress!, convert: convert)
            }
            initialized = count
        }
    }
}

/// Decodes `count` numbers from `bytes[offset...]` into a new Float32 tensor of `shape`.
func decodeTensor<Bits: FixedWidthInteger>(
    _ bytes: Data, offset: Int, as bits: Bits.Type, order: ByteOrder, shape: [Int],
    convert: (Bits) -> Float
) -> Tensor {
    var tensor = Tensor(uninitializedShape: shape)
    let destination = tensor.mutablePointer()
    bytes.withUnsafeBytes { raw in
        let source = UnsafeRawBufferPointer(rebasing: raw[offset...])
        decodeNumbers(source, as: bits, order: order, count: tensor.count, into: destination, convert: convert)
    }
    return tensor
}

// MARK: - Writing

/// Writes a file through `body` so that it appears complete or not at all: the bytes go to a
/// temporary file in the same folder, which is flushed to disk and then renamed over `url`
/// (a rename within one file system is atomic), so a run killed midway leaves no half file
/// under `url` (at worst a hidden `.name.UUID.tmp` beside it). `durable: false` skips the flush
/// to disk: the file still appears whole or not at all to a killed process, but not after a
/// power loss; bulk writes of many small files (image sets) take a fraction of the time.
func writeFileAtomically(to url: URL, durable: Bool = true, _ body: (inout FileSink) throws -> Void) throws {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    func failure(_ what: String, _ error: Error? = nil) -> FileFormatError {
        let detail = error.map { " (\($0.localizedDescription))" } ?? ""
        return FileFormatError(path: url.path, reason: "\(what)\(detail)")
    }
    guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
        throw failure("cannot be written (cannot create a temporary file in \(folder.path))")
    }
    guard let handle = try? FileHandle(forWritingTo: temporary) else {
        try? FileManager.default.removeItem(at: temporary)
        throw failure("cannot be written (cannot open a temporary file in \(folder.path))")
    }
    var sink = FileSink(handle: handle, path: url.path)
    do {
        defer { sink.deallocate() }
        try body(&sink)
        try sink.flush()
        do {
            if durable { try handle.synchronize() }
            try handle.close()
        } catch {
            throw failure("cannot be written", error)
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw failure("cannot be written (rename failed: \(String(cString: strerror(errno))))")
        }
    } catch {
        try? handle.close()
        try? FileManager.default.removeItem(at: temporary)
        throw error
    }
}

/// Buffered output to an open file; numbers are stored little-endian.
struct FileSink {
    private let handle: FileHandle
    private let path: String
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0

    fileprivate init(handle: FileHandle, path: String) {
        self.handle = handle
        self.path = path
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
    }

    fileprivate func deallocate() { buffer.deallocate() }

    /// Appends `bytes` as they are.
    mutating func write<Bytes: Sequence>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        for byte in bytes {
            if used == buffer.count { try flush() }
            buffer[used] = byte
            used += 1
        }
    }

    /// Appends each of `values` as the little-endian bytes of `bits(value)`.
    mutating func writeNumbers<Element, Bits: FixedWidthInteger>(
        _ values: UnsafeBufferPointer<Element>, as bits: (Element) -> Bits
    ) throws {
        let size = MemoryLayout<Bits>.size
        var next = 0
        while next < values.count {
            if buffer.count - used < size { try flush() }
            let chunk = min(values.count - next, (buffer.count - used) / size)
            for i in 0..<chunk {
                buffer.storeBytes(of: bits(values[next + i]).littleEndian, toByteOffset: used + i * size, as: Bits.self)
            }
            used += chunk * size
            next += chunk
        }
    }

    /// Writes out what the buffer holds.
    fileprivate mutating func flush() throws {
        guard used > 0 else { return }
        do {
            try handle.write(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<used]))
        } catch {
            throw FileFormatError(path: path, reason: "cannot be written (\(error.localizedDescription))")
        }
        used = 0
    }
}

/// Writes `bytes` to `url` atomically (see `writeFileAtomically`): `url` holds either its old
/// content or all of `bytes`, never part.
public func writeAtomically<Bytes: Sequence>(_ bytes: Bytes, to url: URL, durable: Bool = true) throws
where Bytes.Element == UInt8 {
    try writeFileAtomically(to: url, durable: durable) { sink in try sink.write(bytes) }
}

/// The bytes of a small file (a config or a list of names), refusing what is not a regular file
/// (a FIFO would block the read forever, a folder cannot be read) and what is larger than
/// `limit` bytes, with the file named.
public func readSmallFile(_ url: URL, limit: Int = 64 << 20) throws -> Data {
    var info = stat()
    guard stat(url.path, &info) == 0 else {
        throw FileFormatError(path: url.path, reason: "cannot be read (\(String(cString: strerror(errno))))")
    }
    guard info.st_mode & S_IFMT == S_IFREG else { throw FileFormatError(path: url.path, reason: "is not a regular file") }
    guard info.st_size <= limit else { throw FileFormatError(path: url.path, reason: "is \(info.st_size) bytes, more than a config can be (\(limit))") }
    return try readFileBytes(url)
}
