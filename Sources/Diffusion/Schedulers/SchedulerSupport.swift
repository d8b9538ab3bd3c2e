import Foundation

/// A run of steps that a scheduler cannot do (too few or too many steps for its training range).
public struct SchedulerError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// How a run of n steps picks its timesteps from 0 ..< T (diffusers' `timestep_spacing`;
/// Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps Are Flawed", table 2).
public enum TimestepSpacing: String, Sendable, CaseIterable {
    /// 0, k, 2k, ... with k = T / n (integer division), plus `steps_offset`: never reaches T - 1.
    case leading
    /// T - 1 downwards in steps of T / n (real division), rounded: always starts at T - 1.
    case trailing
    /// n points evenly spaced over 0 ... T - 1, rounded: the first and the last included.
    case linspace

    /// The timesteps of a run of `count` steps, in the order the model is called (descending),
    /// computed as diffusers does with numpy: float64 arithmetic, rounding half to even.
    ///
    /// For trailing spacing numpy's `arange` yields one timestep too many (a final -1) for some
    /// counts (61 of 1000 among them); only the first `count` are kept.
    func timesteps(count: Int, trainTimesteps: Int, offset: Int) -> [Int] {
        func rounded(_ value: Double) -> Int { Int(value.rounded(.toNearestOrEven)) }
        switch self {
        case .leading:
            let ratio = trainTimesteps / count
            return (0..<count).reversed().map { $0 * ratio + offset }
        case .trailing:
            let values = descendingArange(from: Double(trainTimesteps), step: Double(trainTimesteps) / Double(count))
            return values.prefix(count).map { rounded($0) - 1 }
        case .linspace:
            // np.linspace(0, T - 1, n): i * step, the last point set to T - 1 exactly.
            guard count > 1 else { return [0] }
            let end = Double(trainTimesteps - 1), step = end / Double(count - 1)
            return (0..<count).reversed().map { i in rounded(i == count - 1 ? end : Double(i) * step) }
        }
    }
}

/// np.arange(start, 0, -step) for start, step > 0, value for value: ceil(start / step) values, the
/// first start, the second start - step, the rest start + i * delta with delta = (start - step) - start,
/// as numpy's fill loop computes them.
func descendingArange(from start: Double, step: Double) -> [Double] {
    let count = Int((start / step).rounded(.up))
    guard count > 1 else { return count == 1 ? [start] : [] }
    let second = start - step, delta = second - start
    return [start, second] + (2..<count).map { start + Double($0) * delta }
}

/// The config values that DDPM and DDIM read alike, with the defaults both share.
struct SchedulerSettings {
    let schedule: NoiseSchedule
    let prediction: PredictionType
    let spacing: TimestepSpacing
    let stepsOffset: Int
    /// The predicted x0 is clamped to -clipRange ... clipRange; nil when clip_sample is off.
    let clipRange: Float?

    init(config: SchedulerConfig) throws {
        schedule = try config.noiseSchedule()
        prediction = try config.prediction()
        if config.thresholding == true {
            throw ConfigError(field: "thresholding", reason: "dynamic thresholding is not supported")
        }
        let spacingName = config.timestepSpacing ?? TimestepSpacing.leading.rawValue
        guard let spacing = TimestepSpacing(rawValue: spacingName) else {
            throw ConfigError(field: "timestep_spacing", reason: "\(spacingName) is not supported (leading, trailing, linspace)")
        }
        self.spacing = spacing
        stepsOffset = config.stepsOffset ?? 0
        guard stepsOffset >= 0 else { throw ConfigError(field: "steps_offset", reason: "must not be negative") }
        if config.clipSample ?? true {
            let range = config.clipSampleRange ?? 1
            guard range > 0 else { throw ConfigError(field: "clip_sample_range", reason: "must be positive") }
            clipRange = Float(range)
        } else {
            clipRange = nil
        }
    }

    /// Throws for a run of `count` steps outside 1 ... T, the model's training timesteps.
    func requireStepCount(_ count: Int) throws {
        let trainTimesteps = schedule.trainTimesteps
        guard count >= 1, count <= trainTimesteps else {
            throw SchedulerError(reason: "cannot sample in \(count) steps: the count must be between 1 and "
                                 + "\(trainTimesteps) (the model's num_train_timesteps)")
        }
    }

    /// The timesteps of a run of `count` steps; throws for a count outside 1 ... T and for a
    /// steps_offset that pushes a timestep past T - 1.
    func timesteps(count: Int) throws -> [Int] {
        let trainTimesteps = schedule.trainTimesteps
        try requireStepCount(count)
        let timesteps = spacing.timesteps(count: count, trainTimesteps: trainTimesteps, offset: stepsOffset)
        if let first = timesteps.first, first >= trainTimesteps {
            throw SchedulerError(reason: "\(count) steps with steps_offset \(stepsOffset) would start at timestep "
                                 + "\(first), past the last training timestep \(trainTimesteps - 1)")
        }
        return timesteps
    }
}

/// The training timestep a discrete scheduler's step is called with: one of 0 ..< trainTimesteps
/// (anything else is a programming error: the caller passes the run's own timesteps).
func trainingTimestep(_ timestep: Float, trainTimesteps: Int) -> Int {
    let t = Int(exactly: timestep)
    precondition(t != nil && t! >= 0 && t! < trainTimesteps, "timestep \(timestep) is not a training timestep")
    return t!
}

extension PredictionType {
    /// The predicted x0 for one element: model output `m` at sample `x`, with
    /// a = sqrt(alpha_prod_t) and b = sqrt(1 - alpha_prod_t), in diffusers' operation order.
    @inline(__always)
    func original(_ m: Float, sample x: Float, a: Float, b: Float) -> Float {
        switch self {
        case .epsilon: return (x - b * m) / a
        case .sample: return m
        case .vPrediction: return a * x - b * m
        }
    }

    /// The predicted noise for one element, given the unclipped x0 from `original`.
    @inline(__always)
    func noise(_ m: Float, sample x: Float, original x0: Float, a: Float, b: Float) -> Float {
        switch self {
        case .epsilon: return m
        case .sample: return (x - a * x0) / b
        case .vPrediction: return a * m + b * x
        }
    }
}
