import Foundation
import NN

/// Sinusoidal timestep features (diffusers' `Timesteps` / `get_timestep_embedding`): for
/// frequencies f_i = exp(-ln(10000) i / (half - freqShift)), i < half = dim / 2, the features of
/// t are sin(t f_i) then cos(t f_i) (cos first when `flipSinToCos`), zero-padded to an odd dim.
/// Computed in Float32 in the same order as PyTorch, so the features agree to rounding.
func timestepFeatures(_ timesteps: [Float], dimension: Int, flipSinToCos: Bool, freqShift: Int) -> Tensor {
    let half = dimension / 2
    let logPeriod = Float(-Foundation.log(10_000.0))
    let frequencies = (0..<half).map { i in Foundation.exp(logPeriod * Float(i) / Float(half - freqShift)) }
    var values = [Float](repeating: 0, count: timesteps.count * dimension)
    for (row, t) in timesteps.enumerated() {
        for i in 0..<half {
            let angle = t * frequencies[i]
            let (first, second) = flipSinToCos ? (Foundation.cos(angle), Foundation.sin(angle)) : (Foundation.sin(angle), Foundation.cos(angle))
            values[row * dimension + i] = first
            values[row * dimension + half + i] = second
        }
    }
    return Tensor(shape: [timesteps.count, dimension], values)
}

/// diffusers' `TimestepEmbedding`: linear_1, SiLU, linear_2.
final class TimestepEmbedding: Module {
    let linear1: Linear
    let linear2: Linear

    init(inFeatures: Int, dimension: Int, seeds: inout SeedSequence) {
        linear1 = Linear(inFeatures, dimension, seeds: &seeds)
        linear2 = Linear(dimension, dimension, seeds: &seeds)
    }

    var namedParameters: [(name: String, parameter: Variable)] {
        prefixed("linear_1", linear1) + prefixed("linear_2", linear2)
    }

    func callAsFunction(_ features: Variable) -> Variable { linear2(silu(linear1(features))) }
}
