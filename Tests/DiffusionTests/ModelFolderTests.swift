import Foundation
import XCTest
@testable import Diffusion

/// A model folder missing a part, or with a null where diffusers has a value, is refused with
/// the file named (it once sampled with guessed defaults, pixels off by up to the full range).
final class ModelFolderTests: XCTestCase {
    private let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/diffusion/ddpm_folder")

    private func copy() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-folder-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixture, to: folder)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    private func assertRefused(_ folder: URL, naming file: String, _ reason: String, line: UInt = #line) {
        XCTAssertThrowsError(try ModelFolder(folder).load(), line: line) { error in
            XCTAssertTrue("\(error)".contains(folder.appendingPathComponent(file).path) && "\(error)".contains(reason), "\(error)", line: line)
        }
    }

    func testMissingPartsAndNullSettingsAreRefused() throws {
        XCTAssertNoThrow(try ModelFolder(try copy()).load())

        let noScheduler = try copy()
        try FileManager.default.removeItem(at: noScheduler.appendingPathComponent("scheduler/scheduler_config.json"))
        assertRefused(noScheduler, naming: "scheduler/scheduler_config.json", "missing")

        let noIndex = try copy()
        try FileManager.default.removeItem(at: noIndex.appendingPathComponent("model_index.json"))
        assertRefused(noIndex, naming: "model_index.json", "missing")

        for key in ["prediction_type", "beta_schedule"] {
            let folder = try copy()
            let file = folder.appendingPathComponent("scheduler/scheduler_config.json")
            var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            config[key] = NSNull()
            try JSONSerialization.data(withJSONObject: config).write(to: file)
            assertRefused(folder, naming: "scheduler/scheduler_config.json", "\"\(key)\" is null")
        }
    }

    /// A FIFO as config.json is refused instead of blocking the read; schedules whose betas
    /// would make NaN, or whose length would take all memory, are refused by name.
    func testFIFOConfigAndImpossibleSchedulesAreRefused() throws {
        let folder = try copy()
        let config = folder.appendingPathComponent("unet/config.json")
        try FileManager.default.removeItem(at: config)
        XCTAssertEqual(mkfifo(config.path, 0o600), 0)
        assertRefused(folder, naming: "unet/config.json", "is not a regular file")

        for (key, value) in [("beta_end", 1.5), ("beta_start", 0), ("num_train_timesteps", 1e9)] {
            var scheduler = SchedulerConfig()
            switch key {
            case "beta_end": scheduler.betaEnd = value
            case "beta_start": scheduler.betaStart = value
            default: scheduler.numTrainTimesteps = Int(value)
            }
            XCTAssertThrowsError(try scheduler.noiseSchedule(), key) { XCTAssertTrue("\($0)".contains(key), "\($0)") }
        }
    }
}
