import Foundation

/// A refusal, before any work, of what would not fit in this machine's memory (an image count
/// of a trillion would otherwise abort allocating terabytes).
enum MemoryBudget {
    /// The share of physical memory one set of images may take.
    static let share = 0.5

    /// Throws a CommandError naming `flag` when `count` images of `floatsPerImage` Float32
    /// values each would take more than `share` of physical memory; `remedy` says what to do.
    static func check(_ flag: String, count: Int, floatsPerImage: Int, remedy: String) throws {
        let bytes = Double(count) * Double(floatsPerImage) * 4
        let limit = share * Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > limit else { return }
        throw CommandError("\(flag) \(count): " + String(format: "the images take %.1f GB in memory, more than half of this machine's %.1f GB; ",
                                                           bytes / 1e9, 2 * limit / 1e9) + remedy)
    }
}
