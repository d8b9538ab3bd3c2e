import Foundation

/// A config.json value that is malformed or unsupported (a UNet's or a scheduler's).
public struct ConfigError: Error, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "config field \"\(field)\": \(reason)" }
}

/// Typed access to a config dictionary, with errors that name the key.
struct ConfigReader {
    let dict: [String: Any]
    init(_ dict: [String: Any]) { self.dict = dict }

    func isNull(_ key: String) -> Bool { dict[key] is NSNull }

    /// The value under `key` as T, nil when missing or null, an error when of another type.
    private func value<T>(_ key: String, _ kind: String, _ convert: (Any) -> T?) throws -> T? {
        guard let raw = dict[key], !(raw is NSNull) else { return nil }
        guard let value = convert(raw) else { throw ConfigError(field: key, reason: "must be \(kind), got \(raw)") }
        return value
    }

    /// JSON numbers arrive as NSNumber; booleans too, told apart by their C type "c" (JSON
    /// never yields another char-typed number).
    private static func isBoolean(_ raw: Any) -> Bool {
        (raw as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false
    }

    func int(_ key: String) throws -> Int? {
        try value(key, "an integer") { raw in
            guard !Self.isBoolean(raw), let n = raw as? NSNumber, n.doubleValue == n.doubleValue.rounded(),
                  abs(n.doubleValue) < 1e15 else { return nil }
            return n.intValue
        }
    }

    func double(_ key: String) throws -> Double? {
        try value(key, "a number") { raw in Self.isBoolean(raw) ? nil : (raw as? NSNumber)?.doubleValue }
    }

    func bool(_ key: String) throws -> Bool? {
        try value(key, "true or false") { raw in Self.isBoolean(raw) ? (raw as? NSNumber)?.boolValue : nil }
    }

    func string(_ key: String) throws -> String? { try value(key, "a string") { $0 as? String } }

    func stringList(_ key: String) throws -> [String]? { try value(key, "a list of strings") { $0 as? [String] } }

    func doubleList(_ key: String) throws -> [Double]? {
        try value(key, "a list of numbers") { raw in
            guard let list = raw as? [Any] else { return nil }
            let numbers = list.compactMap { Self.isBoolean($0) ? nil : ($0 as? NSNumber)?.doubleValue }
            return numbers.count == list.count ? numbers : nil
        }
    }

    func intList(_ key: String) throws -> [Int]? {
        try value(key, "a list of integers") { raw in
            guard let list = raw as? [Any] else { return nil }
            let ints = list.compactMap { item -> Int? in
                guard !Self.isBoolean(item), let n = item as? NSNumber, n.doubleValue == n.doubleValue.rounded(),
                      abs(n.doubleValue) < 1e15 else { return nil }
                return n.intValue
            }
            return ints.count == list.count ? ints : nil
        }
    }

    /// The key, when present and not null, must equal `expected`.
    func require(_ key: String, _ expected: String) throws {
        if let found = try string(key), found != expected {
            throw ConfigError(field: key, reason: "\(found) is not supported (only \(expected))")
        }
    }

    func requireNull(_ key: String) throws {
        if let raw = dict[key], !(raw is NSNull) {
            throw ConfigError(field: key, reason: "\(raw) is not supported (only null)")
        }
    }
}
