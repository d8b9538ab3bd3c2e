import Foundation

/// The noise levels of Karras et al. 2022 ("Elucidating the Design Space of Diffusion-Based
/// Generative Models", eq. 5), as diffusers' `_convert_to_karras`: `count` levels from sigma_max
/// down to sigma_min, evenly spaced in sigma^(1 / rho) with rho = 7, in double as numpy computes them.
///
///     sigma_i = (sigma_max^(1/rho) + i / (n - 1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho
///
/// A single level is sigma_max (np.linspace(0, 1, 1) is [0]).
func karrasSigmas(from sigmaMax: Double, to sigmaMin: Double, count: Int) -> [Double] {
    let rho = 7.0
    let minInvRho = pow(sigmaMin, 1 / rho), maxInvRho = pow(sigmaMax, 1 / rho)
    // np.linspace(0, 1, n): i * (1 / (n - 1)), the last point 1 exactly
    let step = count > 1 ? 1 / Double(count - 1) : 0
    return (0..<count).map { i in
        let ramp = i == count - 1 && count > 1 ? 1 : Double(i) * step
        return pow(maxInvRho + ramp * (minInvRho - maxInvRho), rho)
    }
}

/// Checks that every training sigma is finite, as Karras levels and their timesteps need: a
/// schedule whose alphas_cumprod reaches 0 (a large beta_end) has infinite sigmas at the end.
func requireFiniteSigmas(_ trainSigmas: [Float]) throws {
    if let t = trainSigmas.firstIndex(where: { !$0.isFinite }) {
        throw SchedulerError(reason: "Karras sigmas need finite noise levels, but sigma at timestep \(t) is \(trainSigmas[t]) "
                             + "(alphas_cumprod reaches 0 there: lower beta_end)")
    }
}

/// The float timestep at noise level `sigma`, as diffusers' `_sigma_to_t`: linear interpolation
/// in log sigma between the training timesteps around it, clamped to 0 ... T - 1.
///
/// `logSigmas` are log sigma_t of the training timesteps in float32 (increasing with t), as numpy
/// computes them; the weight's denominator is a float32 difference, the rest double, as in numpy.
func timestep(atSigma sigma: Double, logSigmas: [Float]) -> Double {
    let logSigma = log(max(sigma, 1e-10))
    // the last training timestep whose log sigma is at most log sigma (0 if none), at most T - 2
    let atOrBelow = logSigmas.lastIndex { logSigma - Double($0) >= 0 } ?? 0
    let low = min(atOrBelow, logSigmas.count - 2), high = low + 1
    let weight = (Double(logSigmas[low]) - logSigma) / Double(logSigmas[low] - logSigmas[high])
    let w = min(max(weight, 0), 1)
    return (1 - w) * Double(low) + w * Double(high)
}
