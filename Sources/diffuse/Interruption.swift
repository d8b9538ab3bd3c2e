import Dispatch
import Foundation

/// SIGINT and SIGTERM as a flag the training loop polls, so that it can save a checkpoint and
/// exit cleanly instead of dying mid-step.
final class Interruption: @unchecked Sendable {
    private let lock = NSLock()
    private var signalled: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// Starts catching SIGINT and SIGTERM.
    init() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock()
                self.signalled = number
                self.lock.unlock()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The signal received, if any.
    var received: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return signalled
    }
}
