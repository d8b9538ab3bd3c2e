import Foundation

/// The forward (noising) process of a diffusion model: betas and the cumulative products
/// alphas_cumprod[t] = prod_{s <= t} (1 - beta_s), defined as diffusers defines them.
public struct NoiseSchedule: Sendable {
    public enum BetaSchedule: String, Sendable, CaseIterable {
        case linear, scaledLinear = "scaled_linear", cosine = "squaredcos_cap_v2", sigmoid
    }

    public let betas: [Float]
    public let alphasCumprod: [Float]

    public var trainTimesteps: Int { betas.count }

    public init(trainTimesteps: Int = 1000, betaStart: Double = 1e-4, betaEnd: Double = 0.02,
                schedule: BetaSchedule = .linear, rescaleZeroTerminalSNR: Bool = false) {
        precondition(trainTimesteps >= 2, "a schedule needs at least 2 timesteps")
        var betas: [Float]
        switch schedule {
        case .linear:
            betas = linspace(Float(betaStart), Float(betaEnd), trainTimesteps)
        case .scaledLinear:
            betas = linspace(Float(betaStart.squareRoot()), Float(betaEnd.squareRoot()), trainTimesteps).map { $0 * $0 }
        case .cosine:
            // Nichol & Dhariwal 2021, eq. 17: alpha_bar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2,
            // betas capped at 0.999; computed in double, as diffusers does in Python.
            func alphaBar(_ t: Double) -> Double { pow(cos((t + 0.008) / 1.008 * Double.pi / 2), 2) }
            let n = Double(trainTimesteps)
            betas = (0..<trainTimesteps).map { i in
                Float(min(1 - alphaBar(Double(i + 1) / n) / alphaBar(Double(i) / n), 0.999))
            }
        case .sigmoid:
            betas = linspace(-6, 6, trainTimesteps).map { x in
                1 / (1 + Foundation.exp(-x)) * Float(betaEnd - betaStart) + Float(betaStart)
            }
        }
        if rescaleZeroTerminalSNR { betas = rescaledToZeroTerminalSNR(betas) }
        self.betas = betas
        alphasCumprod = cumulativeProduct(betas.map { 1 - $0 })
    }
}

/// torch.linspace in Float32: the first half counts up from start, the second half down from end,
/// each point one fused multiply-add (PyTorch's CPU kernel is compiled with FMA contraction).
func linspace(_ start: Float, _ end: Float, _ count: Int) -> [Float] {
    let step = (end - start) / Float(count - 1)
    return (0..<count).map { i in
        i < count / 2 ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(count - 1 - i))
    }
}

/// Running products accumulated in double and rounded per element, as PyTorch's CPU cumprod.
func cumulativeProduct(_ values: [Float]) -> [Float] {
    var running = 1.0
    return values.map { running *= Double($0); return Float(running) }
}

/// Lin et al. 2024 ("Common Diffusion Noise Schedules and Sample Steps Are Flawed", alg. 1):
/// shift and scale sqrt(alphas_cumprod) so the last timestep has zero signal (SNR 0) and the
/// first keeps its value, then recover betas.
func rescaledToZeroTerminalSNR(_ betas: [Float]) -> [Float] {
    var roots = cumulativeProduct(betas.map { 1 - $0 }).map { $0.squareRoot() }
    let first = roots[0], last = roots[roots.count - 1]
    roots = roots.map { ($0 - last) * (first / (first - last)) }
    let cumprod = roots.map { $0 * $0 }
    var alphas = [cumprod[0]]
    for t in 1..<cumprod.count { alphas.append(cumprod[t] / cumprod[t - 1]) }
    return alphas.map { 1 - $0 }
}
