/// A file that cannot be read or written as the expected format, with the reason.
///
/// The readers throw this for every malformed input (bad magic, impossible sizes, broken
/// headers, truncated data) and for I/O failures, so callers handle one error type that
/// always names the file.
public struct FileFormatError: Error, CustomStringConvertible {
    /// The file's path.
    public let path: String
    /// What is wrong, in words.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
