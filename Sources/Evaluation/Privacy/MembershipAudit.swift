import Foundation
import Imaging

/// What `diffuse audit` reports: membership-inference attacks on a model, each a statistic
/// (an error per image at one timestep) thresholded to tell training images (members) from
/// held-out ones (non-members). A score is the negative error: lower errors look like members.
public struct MembershipAudit: Codable, Equatable, Sendable {
    /// One attack at one timestep.
    public struct Attack: Codable, Equatable, Sendable {
        public var attack: String
        public var timestep: Int
        public var auc: Double
        public var tprAt1PercentFPR: Double
        public var tprAt01PercentFPR: Double
        /// The mean error of the members and of the non-members.
        public var memberError: Double
        public var nonMemberError: Double

        enum CodingKeys: String, CodingKey {
            case attack, timestep, auc, tprAt1PercentFPR = "tpr_at_1pct_fpr", tprAt01PercentFPR = "tpr_at_0.1pct_fpr"
            case memberError = "member_error", nonMemberError = "non_member_error"
        }

        /// "loss at t = 100".
        public var label: String { "\(attack) at t = \(timestep)" }
    }

    /// One statistic's errors for each member and each non-member.
    public struct Errors: Sendable {
        public let attack: String
        public let timestep: Int
        public let members: [Double]
        public let nonMembers: [Double]

        public init(attack: String, timestep: Int, members: [Double], nonMembers: [Double]) {
            (self.attack, self.timestep, self.members, self.nonMembers) = (attack, timestep, members, nonMembers)
        }

        var curve: ROCCurve { ROCCurve(positives: members.map { -$0 }, negatives: nonMembers.map { -$0 }) }
    }

    public var model: String
    public var members: String
    public var nonMembers: String
    public var memberCount: Int
    public var nonMemberCount: Int
    public var seed: UInt64
    /// SecMI's step between deterministic DDIM timesteps.
    public var interval: Int
    public var attacks: [Attack]
    /// The attack of the highest AUC, and its AUC and ROC curve ([FPR, TPR] points). Picked on
    /// the audited images themselves, so a little optimistic.
    public var best: Attack
    public var auc: Double
    public var roc: [[Double]]

    enum CodingKeys: String, CodingKey {
        case model, members, nonMembers = "non_members", memberCount = "n_members", nonMemberCount = "n_non_members"
        case seed, interval, attacks, best, auc, roc
    }

    public init(model: String, members: String, nonMembers: String, seed: UInt64, interval: Int, errors: [Errors]) {
        precondition(!errors.isEmpty, "an audit needs at least one statistic")
        var attacks: [Attack] = [], curves: [ROCCurve] = []
        for statistic in errors {
            let curve = statistic.curve
            curves.append(curve)
            attacks.append(Attack(attack: statistic.attack, timestep: statistic.timestep, auc: curve.auc,
                                  tprAt1PercentFPR: curve.truePositiveRate(atFalsePositiveRate: 0.01),
                                  tprAt01PercentFPR: curve.truePositiveRate(atFalsePositiveRate: 0.001),
                                  memberError: statistic.members.reduce(0, +) / Double(statistic.members.count),
                                  nonMemberError: statistic.nonMembers.reduce(0, +) / Double(statistic.nonMembers.count)))
        }
        let bestIndex = attacks.indices.max { attacks[$0].auc < attacks[$1].auc }!
        (self.model, self.members, self.nonMembers, self.seed, self.interval) = (model, members, nonMembers, seed, interval)
        (memberCount, nonMemberCount) = (errors[0].members.count, errors[0].nonMembers.count)
        (self.attacks, best, auc) = (attacks, attacks[bestIndex], attacks[bestIndex].auc)
        roc = curves[bestIndex].points.map { [$0.fpr, $0.tpr] }
        self.curves = Dictionary(uniqueKeysWithValues: zip(attacks.map(\.label), curves))
    }

    /// Every attack's curve by label, for the chart (not written to JSON).
    private var curves: [String: ROCCurve] = [:]

    public static func == (a: MembershipAudit, b: MembershipAudit) -> Bool {
        (a.model, a.members, a.nonMembers) == (b.model, b.members, b.nonMembers)
            && (a.memberCount, a.nonMemberCount, a.seed, a.interval) == (b.memberCount, b.nonMemberCount, b.seed, b.interval)
            && a.attacks == b.attacks && a.best == b.best && a.auc == b.auc && a.roc == b.roc
    }
}

extension MembershipAudit {
    /// The best timestep of each attack as a ROC curve on log-log axes (low false-positive
    /// rates are where an attack matters), with chance (TPR = FPR) for scale. Points at a rate of
    /// zero cannot be drawn on log axes and are left out.
    public func rocChart() -> LineChart {
        var series: [LineChart.Series] = []
        for kind in Set(attacks.map(\.attack)).sorted() {
            guard let top = attacks.filter({ $0.attack == kind }).max(by: { $0.auc < $1.auc }), let curve = curves[top.label] else { continue }
            let points = curve.points.filter { $0.fpr > 0 && $0.tpr > 0 }.map { (x: $0.fpr, y: $0.tpr) }
            series.append(LineChart.Series(name: String(format: "%@ (AUC %.3f)", top.label, top.auc), points: points))
        }
        let floor = 1 / Double(nonMemberCount)
        series.append(LineChart.Series(name: "chance", points: [(floor, floor), (1, 1)]))
        return LineChart(title: "Membership inference: ROC (log-log)", xLabel: "false-positive rate (log scale)",
                         yLabel: "true-positive rate (log scale)", series: series, logX: true, logY: true)
    }

    /// The report in Markdown: every attack and timestep, the best, and what the numbers can
    /// and cannot say.
    public func markdown(rocImage: String? = nil) -> String {
        var text = "# Membership-inference audit\n\n"
        text += "Model: \(model). Members: \(members) (\(memberCount) images); non-members: \(nonMembers) (\(nonMemberCount)). "
        text += "Seed \(seed); SecMI interval \(interval).\n\n"
        text += "| attack | timestep | AUC | TPR at 1% FPR | TPR at 0.1% FPR | mean error, members | mean error, non-members |\n"
        text += "|---|---|---|---|---|---|---|\n"
        for a in attacks {
            text += String(format: "| %@ | %d | %.4f | %.4f | %.4f | %.4g | %.4g |\n", a.attack, a.timestep, a.auc,
                           a.tprAt1PercentFPR, a.tprAt01PercentFPR, a.memberError, a.nonMemberError)
        }
        text += String(format: "\nBest: %@, AUC %.4f (0.5 is chance; picked on these images, so a little optimistic). ", best.label, auc)
        text += String(format: "With %d non-members the smallest false-positive rate a threshold can have above 0 is %.4f", nonMemberCount,
                       1 / Double(nonMemberCount))
        text += nonMemberCount < 1000 ? "; a TPR at 0.1% FPR counts only thresholds that let no non-member through.\n" : ".\n"
        if let rocImage { text += "\n![ROC](\(rocImage))\n" }
        return text
    }
}
