import XCTest
@testable import NN

/// The warning for an OpenBLAS that runs outdated kernels on a newer CPU.
final class BLASKernelsTests: XCTestCase {
    func testWarnsOnlyForOutdatedKernelsOnAWideCPUWithoutAChoice() throws {
        let warning = try XCTUnwrap(BLASKernels.advice(coreName: "Prescott", cpuLevel: .avx512, environment: [:]))
        XCTAssertTrue(warning.contains("OPENBLAS_CORETYPE=SkylakeX"), warning)
        XCTAssertTrue(try XCTUnwrap(BLASKernels.advice(coreName: "Nehalem", cpuLevel: .avx2, environment: [:]))
            .contains("OPENBLAS_CORETYPE=Haswell"))
        // Kernels that fit the CPU, a CPU without AVX2, or a choice the machine made: no warning.
        XCTAssertNil(BLASKernels.advice(coreName: "SkylakeX", cpuLevel: .avx512, environment: [:]))
        XCTAssertNil(BLASKernels.advice(coreName: "Zen", cpuLevel: .avx2, environment: [:]))
        XCTAssertNil(BLASKernels.advice(coreName: "Prescott", cpuLevel: .baseline, environment: [:]))
        XCTAssertNil(BLASKernels.advice(coreName: "Prescott", cpuLevel: .avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"]))
        XCTAssertFalse(BLASKernels.coreName.isEmpty)
    }
}
