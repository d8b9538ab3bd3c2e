import XCTest
@testable import Diffusion

final class SamplerChoiceTests: XCTestCase {
    func testNames() {
        XCTAssertEqual(SamplerChoice(name: "ddim"), SamplerChoice(kind: .ddim))
        XCTAssertEqual(SamplerChoice(name: "dpmpp-2m-karras"), SamplerChoice(kind: .dpmSolver2M, karras: true))
        XCTAssertEqual(SamplerChoice(name: "euler-karras")?.description, "euler-karras")
        for name in ["ddim-karras", "pndm-karras", "euler-a-karras", "karras", "dpmpp", ""] {
            XCTAssertNil(SamplerChoice(name: name), name)
        }
        XCTAssertEqual(Set(SamplerChoice.allNames.compactMap(SamplerChoice.init(name:)).map(\.description)),
                       Set(SamplerChoice.allNames))
    }

    /// A Karras choice runs the Karras levels: the same sigmas as use_karras_sigmas in the config.
    func testKarrasChoiceSetsTheConfigKey() throws {
        var config = SchedulerConfig()
        let plain = try XCTUnwrap(SamplerChoice(name: "euler")?.make(config: config) as? EulerScheduler)
        let karras = try XCTUnwrap(SamplerChoice(name: "euler-karras")?.make(config: config) as? EulerScheduler)
        config.useKarrasSigmas = true
        let configured = try XCTUnwrap(SamplerChoice(name: "euler")?.make(config: config) as? EulerScheduler)
        for scheduler in [plain, karras, configured] { try scheduler.setTimesteps(10) }
        XCTAssertEqual(karras.sigmas, configured.sigmas)
        XCTAssertNotEqual(karras.sigmas, plain.sigmas)
        XCTAssertEqual(karras.sigmas.first, plain.sigmas.first)
    }
}
