import Foundation
import NN

/// How well a denoiser denoises given images at fixed timesteps with fixed noise: the evidence
/// of membership inference. A model tends to denoise its training images better than unseen
/// images of the same distribution, and each statistic here is an error that a membership
/// attack thresholds (lower: more likely a training image).
///
/// Everything is seeded: the noise of image i at the k-th timestep is elements i*CHW ..<
/// (i+1)*CHW of the stream of seed derive(seed, k + 1), so a probe repeats exactly and does
/// not depend on the batch size.
public struct MembershipProbe {
    /// What an error measures.
    public enum Attack: String, Codable, Sendable, CaseIterable {
        /// The training loss at timestep t with fixed noise: the loss-threshold attack
        /// (Yeom et al. 2018; for diffusion models Matsumoto et al. 2023, Carlini et al. 2023).
        case loss
        /// SecMI's t-error (Duan et al. 2023): x0 is carried to t by deterministic DDIM
        /// inversion, one step further and back by deterministic DDIM steps; the error is how
        /// far that round trip lands from where it started.
        case tError = "t-error"
    }

    /// One attack at one timestep.
    public struct Statistic: Hashable, Sendable, Comparable {
        public let attack: Attack
        public let timestep: Int

        public init(attack: Attack, timestep: Int) { (self.attack, self.timestep) = (attack, timestep) }

        public static func < (a: Statistic, b: Statistic) -> Bool {
            (Attack.allCases.firstIndex(of: a.attack)!, a.timestep) < (Attack.allCases.firstIndex(of: b.attack)!, b.timestep)
        }
    }

    public let denoiser: any Denoiser
    public let schedule: NoiseSchedule
    public let prediction: PredictionType
    /// The timesteps of both attacks, ascending, each below the schedule's training timesteps.
    public let timesteps: [Int]
    /// SecMI's step between the timesteps of its deterministic DDIM moves.
    public let interval: Int
    public let seed: UInt64

    public init(denoiser: any Denoiser, schedule: NoiseSchedule, prediction: PredictionType, timesteps: [Int],
                interval: Int, seed: UInt64) throws {
        let sorted = Array(Set(timesteps)).sorted()
        guard let last = sorted.last, sorted[0] >= 0, last + interval < schedule.trainTimesteps, interval >= 1 else {
            throw SchedulerError(reason: "membership timesteps \(timesteps) with interval \(interval) must lie in 0 ..< "
                                 + "\(schedule.trainTimesteps) with room for one interval above the last")
        }
        (self.denoiser, self.schedule, self.prediction) = (denoiser, schedule, prediction)
        (self.timesteps, self.interval, self.seed) = (sorted, interval, seed)
    }

    /// Model evaluations per image: one per loss timestep, the inversion's steps up to the last
    /// timestep, and two per t-error timestep.
    public var evaluationsPerImage: Int {
        timesteps.count + (timesteps.last! + interval - 1) / interval + 2 * timesteps.count
    }

    /// Every statistic's error for each image of `images` (N, C, H, W, values in [-1, 1]),
    /// images `first ..< first + N` of their set; `labels` are their classes for a
    /// class-conditional model. `afterEvaluation` hears each model evaluation of the batch.
    public func errors(of images: Tensor, labels: [Int]?, first: Int,
                       afterEvaluation: () -> Void = {}) -> [Statistic: [Double]] {
        var errors: [Statistic: [Double]] = [:]
        let n = images.shape[0], imageSize = images.count / n
        func predict(_ x: Tensor, _ t: Int) -> Tensor {
            defer { afterEvaluation() }
            return denoiser(Variable(x), timesteps: [Float](repeating: Float(t), count: n),
                            conditioning: Conditioning(classLabels: labels)).value
        }
        for (k, t) in timesteps.enumerated() {
            let noise = Tensor.randn(images.shape, seed: SeedSequence.derive(seed, UInt64(k + 1)), offset: first * imageSize)
            let alpha = schedule.alphasCumprod[t]
            let alphas = [Float](repeating: alpha, count: n)
            let noisy = perImageCombination(alphas.map { $0.squareRoot() }, images, alphas.map { (1 - $0).squareRoot() }, noise)
            let target = prediction.target(x0: images, noise: noise, alphasCumprod: alphas)
            errors[Statistic(attack: .loss, timestep: t)] = meanSquaredErrors(predict(noisy, t), target)
        }
        // SecMI: deterministic DDIM inversion from x0 (taken as the sample at timestep 0) in
        // steps of `interval`, recording x~_t at each probe timestep on the way.
        var x = images, s = 0
        for t in timesteps {
            while s < t {
                let next = min(s + interval, t)
                x = ddimMove(x, output: predict(x, s), from: s, to: next)
                s = next
            }
            let ahead = ddimMove(x, output: predict(x, t), from: t, to: t + interval)
            let back = ddimMove(ahead, output: predict(ahead, t + interval), from: t + interval, to: t)
            errors[Statistic(attack: .tError, timestep: t)] = meanSquaredErrors(back, x)
        }
        return errors
    }

    /// The deterministic DDIM move (eta = 0) of sample `x` at timestep `s` to timestep `target`,
    /// either way, from the model's output there: x' = sqrt(a') x0 + sqrt(1 - a') eps with x0 and
    /// eps predicted (unclipped).
    func ddimMove(_ x: Tensor, output: Tensor, from s: Int, to target: Int) -> Tensor {
        let (a, b) = (schedule.alphasCumprod[s].squareRoot(), (1 - schedule.alphasCumprod[s]).squareRoot())
        let (a2, b2) = (schedule.alphasCumprod[target].squareRoot(), (1 - schedule.alphasCumprod[target]).squareRoot())
        let m = output.scalars, xs = x.scalars
        var moved = [Float](repeating: 0, count: xs.count)
        for i in xs.indices {
            let x0 = prediction.original(m[i], sample: xs[i], a: a, b: b)
            moved[i] = a2 * x0 + b2 * prediction.noise(m[i], sample: xs[i], original: x0, a: a, b: b)
        }
        return Tensor(shape: x.shape, moved)
    }

    /// Each image's mean squared difference between two batches (N, ...), in Float64.
    private func meanSquaredErrors(_ a: Tensor, _ b: Tensor) -> [Double] {
        let n = a.shape[0], per = a.count / n
        let (x, y) = (a.scalars, b.scalars)
        return (0..<n).map { i in
            var sum = 0.0
            for j in (i * per)..<((i + 1) * per) { sum += Double(x[j] - y[j]) * Double(x[j] - y[j]) }
            return sum / Double(per)
        }
    }
}
