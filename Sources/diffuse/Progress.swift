import Foundation

/// Progress of a long job: on a terminal, one line redrawn in place with a bar, rate and ETA;
/// otherwise (a log file, CI) a plain line every `logEvery` units or 30 seconds.
final class Progress {
    let total: Int
    let unit: String
    private let isTerminal = isatty(STDOUT_FILENO) != 0
    private let start = Date()
    private var startDone: Int
    private var lastLine = Date.distantPast
    private var lastLogged: Int

    /// `done` is where the job starts (a resumed run starts part way).
    init(total: Int, unit: String, done: Int = 0) {
        (self.total, self.unit, self.startDone, lastLogged) = (total, unit, done, done)
    }

    /// Reports `done` of `total`, with extra fields such as "loss 0.0312".
    func update(_ done: Int, _ fields: String = "", unitsPerItem: Double = 1) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done - startDone) / max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        // Under half a second in, a rate says more about the clock than about the job.
        let speed = elapsed < 0.5 ? "-- \(unit)/s" : String(format: "%.1f %@/s", rate * unitsPerItem, unit)
        if isTerminal {
            guard Date().timeIntervalSince(lastLine) > 0.1 || done == total else { return }
            lastLine = Date()
            let width = 24, filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            print("\r\u{1B}[K[\(bar)] \(done)/\(total)  \(fields)  \(speed)  ETA \(Self.duration(remaining))", terminator: "")
            fflush(stdout)
        } else {
            let every = max(total / 20, 1)
            guard done - lastLogged >= every || Date().timeIntervalSince(lastLine) >= 30 || done == total else { return }
            lastLine = Date()
            lastLogged = done
            print("\(done)/\(total)  \(fields)  \(speed)  elapsed \(Self.duration(elapsed))  ETA \(Self.duration(remaining))")
            fflush(stdout)   // a log file should show progress as it happens
        }
    }

    /// Ends the in-place line so that later output starts on a fresh line.
    func finish() {
        if isTerminal { print("") }
    }

    /// Prints a message without breaking the progress line.
    func note(_ message: String) {
        if isTerminal { print("\r\u{1B}[K", terminator: "") }
        print(message)
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
