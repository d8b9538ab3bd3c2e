import Evaluation
import Foundation
import XCTest

/// ROC curves of membership attacks against scikit-learn (Tests/Fixtures/make_privacy_fixtures.py).
final class ROCCurveTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Case: Decodable {
            let name: String
            let positives: [Double]
            let negatives: [Double]
            let auc: Double
            let rates: [Double]
            let tpr_at: [Double]
        }
        let cases: [Case]
    }

    func testAUCAndLowFalsePositiveRatesMatchScikitLearn() throws {
        let url = MetricsFixtures.folder.deletingLastPathComponent().appendingPathComponent("privacy/roc.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 4)
        for c in fixture.cases {
            let curve = ROCCurve(positives: c.positives, negatives: c.negatives)
            XCTAssertEqual(curve.auc, c.auc, accuracy: 1e-12, c.name)
            for (rate, expected) in zip(c.rates, c.tpr_at) {
                XCTAssertEqual(curve.truePositiveRate(atFalsePositiveRate: rate), expected, accuracy: 1e-12, "\(c.name) at \(rate)")
            }
            XCTAssertEqual(curve.points.first?.fpr, 0)
            XCTAssertEqual(curve.points.last?.tpr, 1)
        }
    }

    /// The audit's best attack is the one of highest AUC, its curve the JSON's roc, and lower
    /// errors count as members.
    func testAuditPicksTheBestAttackAndScoresLowErrorsAsMembers() throws {
        let audit = MembershipAudit(model: "m", members: "in", nonMembers: "out", seed: 0, interval: 10, errors: [
            .init(attack: "loss", timestep: 10, members: [1, 2, 3, 4], nonMembers: [1.5, 2.5, 3.5, 4.5]),
            .init(attack: "loss", timestep: 50, members: [1, 2, 3, 4], nonMembers: [5, 6, 7, 8]),
            .init(attack: "t-error", timestep: 10, members: [5, 6, 7, 8], nonMembers: [1, 2, 3, 4]),
        ])
        XCTAssertEqual(audit.attacks.map(\.auc), [0.625, 1, 0])
        XCTAssertEqual(audit.best.timestep, 50)
        XCTAssertEqual(audit.auc, 1)
        XCTAssertEqual(audit.best.tprAt1PercentFPR, 1)
        XCTAssertEqual(audit.roc.first, [0, 0])
        XCTAssertEqual(audit.attacks[1].memberError, 2.5)
        XCTAssertEqual(audit.attacks[1].nonMemberError, 6.5)
        let decoded = try JSONDecoder().decode(MembershipAudit.self, from: JSONEncoder().encode(audit))
        XCTAssertEqual(decoded, audit)
        XCTAssertTrue(audit.markdown().contains("| loss | 50 | 1.0000 | 1.0000 | 1.0000 |"), audit.markdown())
        XCTAssertTrue(audit.rocChart().svg().contains("loss at t = 50 (AUC 1.000)"))
    }
}
