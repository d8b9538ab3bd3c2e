import Foundation
import Imaging
import NN
import XCTest
@testable import diffuse

/// `diffuse audit` end to end on a tiny random-weight model, and its refusals.
final class AuditCommandTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws { root = try temporaryFolder(for: self) }

    func testAuditReportsEveryAttackAndTheBest() throws {
        let model = try saveTinyModel(under: root)
        let members = try writeRandomImages(under: root, name: "members", count: 6)
        let nonMembers = root.appendingPathComponent("non-members")
        try FileManager.default.createDirectory(at: nonMembers, withIntermediateDirectories: true)
        for i in 0..<8 {
            let pixels = Tensor.rand([64], seed: UInt64(900 + i)).scalars.map { UInt8($0 * 255) }
            try PNG.write(Image(width: 8, height: 8, channels: 1, pixels: pixels), to: nonMembers.appendingPathComponent("\(i).png"))
        }
        let json = root.appendingPathComponent("audit.json"), roc = root.appendingPathComponent("roc.svg")
        let markdown = root.appendingPathComponent("audit.md")
        var command = try Diffuse.parseAsRoot(["audit", "--model", model.path, "--members", members.path, "--non-members", nonMembers.path,
                                               "--count", "5", "--timesteps", "5,20", "--interval", "5", "--batch-size", "3",
                                               "--json", json.path, "--roc", roc.path, "--markdown", markdown.path])
        try command.run()
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let auc = try XCTUnwrap(object["auc"] as? Double)
        XCTAssertTrue((0...1).contains(auc))
        XCTAssertEqual(object["n_members"] as? Int, 5)
        XCTAssertEqual(object["n_non_members"] as? Int, 5)
        let attacks = try XCTUnwrap(object["attacks"] as? [[String: Any]])
        XCTAssertEqual(attacks.map { "\($0["attack"]!)@\($0["timestep"]!)" }, ["loss@5", "loss@20", "t-error@5", "t-error@20"])
        XCTAssertEqual(attacks.compactMap { $0["auc"] as? Double }.max(), auc)
        for attack in attacks {
            // An AUC over 5 x 5 pairs is a multiple of 1/50 (ties count half).
            let pairs = try XCTUnwrap(attack["auc"] as? Double) * 50
            XCTAssertEqual(pairs, pairs.rounded(), accuracy: 1e-9)
            XCTAssertGreaterThan(try XCTUnwrap(attack["member_error"] as? Double), 0)
        }
        XCTAssertTrue(try String(contentsOf: roc, encoding: .utf8).hasPrefix("<svg"))
        // The picture is linked relative to the report, which sits beside it.
        XCTAssertTrue(try String(contentsOf: markdown, encoding: .utf8).contains("![ROC](roc.svg)"))

        // The same command again gives the same numbers: noise and --count's choice are seeded.
        let first = try Data(contentsOf: json)
        try command.run()
        XCTAssertEqual(try Data(contentsOf: json), first)
    }

    func testReportLinksArePathsFromTheReportsFolder() {
        XCTAssertEqual(markdownLink(to: "Samples/x/roc.svg", fromDocumentAt: "Samples/x/audit.md"), "roc.svg")
        XCTAssertEqual(markdownLink(to: "out/roc.svg", fromDocumentAt: "Samples/x/audit.md"), "../../out/roc.svg")
        XCTAssertEqual(markdownLink(to: "/tmp/a/b/roc.svg", fromDocumentAt: "/tmp/a/report.md"), "b/roc.svg")
        XCTAssertEqual(markdownLink(to: "./x/../roc.svg", fromDocumentAt: "report.md"), "roc.svg")
    }

    func testBadInputIsRefusedAndNothingWritten() throws {
        let model = try saveTinyModel(under: root)
        let members = try writeRandomImages(under: root, name: "members", count: 4)
        let fewer = try writeRandomImages(under: root, name: "fewer", count: 3)
        let larger = root.appendingPathComponent("larger")
        try FileManager.default.createDirectory(at: larger, withIntermediateDirectories: true)
        for i in 0..<4 {
            try PNG.write(Image(width: 16, height: 16, channels: 1, pixels: [UInt8](repeating: UInt8(i), count: 256)),
                          to: larger.appendingPathComponent("\(i).png"))
        }
        let json = root.appendingPathComponent("audit.json")
        func refusal(_ extra: [String], _ nonMembers: URL) throws -> String {
            var command = try Diffuse.parseAsRoot(["audit", "--model", model.path, "--members", members.path, "--non-members", nonMembers.path,
                                                   "--timesteps", "5", "--json", json.path] + extra)
            var message = ""
            XCTAssertThrowsError(try command.run()) { message = "\($0)" }
            return message
        }
        XCTAssertTrue(try refusal([], fewer).contains("\(fewer.path): 3 images against 4 members"))
        XCTAssertTrue(try refusal(["--count", "4"], fewer).contains("\(fewer.path): 3 images, fewer than --count 4"))
        XCTAssertTrue(try refusal([], larger).contains("\(larger.path): its images are 16x16, the members' 8x8"))
        XCTAssertTrue(try refusal(["--timesteps", "5,99"], fewer).contains("--timesteps"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: json.path))
        XCTAssertThrowsError(try Diffuse.parseAsRoot(["audit", "--model", "m", "--members", "a", "--non-members", "b", "--timesteps", "x"]))
    }
}
