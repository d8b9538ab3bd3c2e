import Foundation
import XCTest
@testable import Diffusion

/// The DP-SGD accountant against Opacus' RDP accountant (Tests/Fixtures/make_privacy_fixtures.py).
final class PrivacyAccountantTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Spent: Decodable {
            let sigma, q: Double
            let steps: Int
            let delta, epsilon, order: Double
            let orders, rdp: [Double]
        }
        struct Noise: Decodable {
            let target_epsilon, delta, q: Double
            let steps: Int
            let sigma, epsilon: Double
        }
        let accountant: [Spent]
        let noise: [Noise]
    }

    private func fixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/privacy/rdp.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testEpsilonAndRDPMatchOpacus() throws {
        let cases = try fixture().accountant
        XCTAssertEqual(cases.count, 6)
        for c in cases {
            let name = "sigma \(c.sigma), q \(c.q), \(c.steps) steps"
            for (order, expected) in zip(c.orders, c.rdp) {
                XCTAssertEqual(RDPAccountant.rdp(q: c.q, sigma: c.sigma, alpha: order), expected, accuracy: 1e-9 * abs(expected), "\(name), order \(order)")
            }
            let spent = RDPAccountant(noiseMultiplier: c.sigma, sampleRate: c.q).epsilon(steps: c.steps, delta: c.delta)
            XCTAssertEqual(spent.epsilon, c.epsilon, accuracy: 1e-6 * c.epsilon, name)
            XCTAssertEqual(spent.order, c.order, name)
        }
    }

    /// With Opacus' tolerance the search is Opacus' bisection, step for step; with the default
    /// one it lands within 0.001 under the target.
    func testNoiseForATargetEpsilonMatchesOpacus() throws {
        for c in try fixture().noise {
            let sigma = try XCTUnwrap(RDPAccountant.noiseMultiplier(epsilon: c.target_epsilon, delta: c.delta, sampleRate: c.q,
                                                                    steps: c.steps, tolerance: 0.01))
            XCTAssertEqual(sigma, c.sigma, accuracy: 1e-12)
            let spent = RDPAccountant(noiseMultiplier: sigma, sampleRate: c.q).epsilon(steps: c.steps, delta: c.delta).epsilon
            XCTAssertEqual(spent, c.epsilon, accuracy: 1e-6 * c.epsilon)
            let tight = try XCTUnwrap(RDPAccountant.noiseMultiplier(epsilon: c.target_epsilon, delta: c.delta, sampleRate: c.q, steps: c.steps))
            let tightSpent = RDPAccountant(noiseMultiplier: tight, sampleRate: c.q).epsilon(steps: c.steps, delta: c.delta).epsilon
            XCTAssertLessThanOrEqual(tightSpent, c.target_epsilon)
            XCTAssertGreaterThan(tightSpent, c.target_epsilon - 1e-3)
        }
        XCTAssertNil(RDPAccountant.noiseMultiplier(epsilon: 1e-9, delta: 1e-5, sampleRate: 1, steps: 1_000_000))
    }

    /// log erfc is continuous where it switches to the asymptotic series.
    func testLogErfcJoinsItsAsymptoticSeries() {
        let direct = log(erfc(20.0))
        XCTAssertEqual(RDPAccountant.logErfc(20.0 + 1e-12), direct, accuracy: 1e-9 * abs(direct))
        XCTAssertEqual(RDPAccountant.logErfc(-3), log(erfc(-3)))
    }
}
