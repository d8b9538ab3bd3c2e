import Foundation
import Kernels

/// The instruction-set level of NN's C kernels (Sources/Kernels): each kernel is compiled for
/// 128-bit vectors (any CPU), AVX2 and AVX-512, and runs at the level picked here, so that one
/// binary uses the CPU it runs on.
public enum SIMDLevel: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case baseline, avx2, avx512

    /// The level the kernels run at: the best this CPU supports, or a lower one named by the
    /// environment variable DIFFUSE_SIMD (`baseline`, `avx2`, `avx512`), to measure or test a
    /// fallback. A level the CPU cannot run is never used.
    public static let native: SIMDLevel = {
        let best = allCases.last { $0.isSupported } ?? .baseline
        guard let name = ProcessInfo.processInfo.environment["DIFFUSE_SIMD"],
              let asked = allCases.first(where: { $0.description == name.lowercased() }) else { return best }
        return min(asked, best)
    }()

    /// Whether this CPU (and its operating system) can run code of this level.
    public var isSupported: Bool { Self.tables[rawValue] != nil }

    public var description: String {
        switch self {
        case .baseline: "baseline"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }

    /// This level's kernel table.
    var kernels: dk_kernels {
        guard let table = Self.tables[rawValue] else { preconditionFailure("the \(self) kernels do not run on this CPU") }
        return table
    }

    /// The kernel table of each level, nil where the CPU cannot run it; asked once, since CPUID
    /// is slow (in a virtual machine it traps to the hypervisor).
    private static let tables: [dk_kernels?] = allCases.map { level in
        let cLevel = dk_level(rawValue: UInt32(level.rawValue))
        return dk_level_supported(cLevel) != 0 ? dk_kernels_for(cLevel).pointee : nil
    }
}
