/// A failure the tool reports in one line (ArgumentParser prints "Error: <message>" and exits 1).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
