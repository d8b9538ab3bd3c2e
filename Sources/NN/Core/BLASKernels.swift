import CBLAS
import Foundation

/// Which kernels OpenBLAS runs. It picks them by the CPU's model number when it starts; an
/// OpenBLAS older than the processor (Debian 12's 0.3.21 on an Emerald Rapids Xeon, say) does not
/// know the model and falls back to its generic SSE3 kernels, "Prescott", which made sampling
/// 2.5 times slower there than its AVX-512 kernels (2.2 against 5.5 images/s, DDIM 50 on the
/// shipped model). `OPENBLAS_CORETYPE` names the kernels instead; Diffuse never sets it (it is
/// the machine's to set), it only says when it is missing.
public enum BLASKernels {
    /// OpenBLAS's generic and pre-AVX2 kernel sets: slow on a CPU with AVX2 or AVX-512.
    static let outdated: Set<String> = ["prescott", "katmai", "coppermine", "northwood", "banias", "atom",
                                        "core2", "penryn", "dunnington", "nehalem", "sandybridge"]

    /// The name of the kernels OpenBLAS runs ("Haswell", "SkylakeX", "Prescott", ...).
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// A one-line warning when OpenBLAS runs outdated kernels on this CPU and the environment
    /// names none; nil otherwise.
    public static var advice: String? {
        advice(coreName: coreName, cpuLevel: SIMDLevel.allCases.last { $0.isSupported } ?? .baseline,
               environment: ProcessInfo.processInfo.environment)
    }

    /// The warning for OpenBLAS kernels `coreName` on a CPU whose widest vectors are `cpuLevel`.
    static func advice(coreName: String, cpuLevel: SIMDLevel, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, cpuLevel >= .avx2, outdated.contains(coreName.lowercased()) else {
            return nil
        }
        let suggested = cpuLevel == .avx512 ? "SkylakeX" : "Haswell"
        return "warning: OpenBLAS does not know this CPU and runs its \(coreName) kernels, not its \(cpuLevel) ones "
            + "(2 to 3 times slower); set OPENBLAS_CORETYPE=\(suggested) to use them"
    }
}
