/// What Foundation's JSON parser lets through and strict parsers (the reference `safetensors`
/// library's serde_json) refuse: a comma before a closing bracket or brace, and a key twice in
/// one object (where Foundation keeps one of the values without a word).
enum StrictJSON {
    /// The first such problem in `bytes`, or nil. Assumes otherwise valid JSON (the parser
    /// checks the rest).
    static func problem(in bytes: some Collection<UInt8>) -> String? {
        // One entry per open object (its keys so far) or array (nil).
        var open: [Set<[UInt8]>?] = []
        var expectingKey = false, lastSignificant: UInt8 = 0
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "\""):
                var text: [UInt8] = [], escaped = false
                while let next = iterator.next() {
                    if escaped { escaped = false } else if next == UInt8(ascii: "\\") { escaped = true } else if next == UInt8(ascii: "\"") { break }
                    text.append(next)
                }
                if expectingKey, let keys = open.last, var seen = keys {
                    guard seen.insert(text).inserted else { return "the key \"\(String(decoding: text, as: UTF8.self))\" comes twice in one object" }
                    open[open.count - 1] = seen
                }
                expectingKey = false
            case UInt8(ascii: "{"): open.append([]); expectingKey = true
            case UInt8(ascii: "["): open.append(nil)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if lastSignificant == UInt8(ascii: ",") { return "a comma before a closing \(Character(UnicodeScalar(byte)))" }
                if !open.isEmpty { open.removeLast() }
            case UInt8(ascii: ","): expectingKey = open.last.map { $0 != nil } ?? false
            default: break
            }
            if ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains(byte) { lastSignificant = byte }
        }
        return nil
    }
}
