import Foundation

/// Why a metric could not be computed. Metrics check their input and throw; they never trap.
public enum MetricError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Two inputs that must share a feature dimension do not.
    case dimensionMismatch(String, Int, Int)
    /// A set has fewer rows than the metric needs.
    case tooFewSamples(String, needed: Int, got: Int)
    /// A NaN or an infinity in an input.
    case nonFiniteValue(String)
    /// A parameter outside its range (k, splits, subset size, a bad statistics file).
    case invalidArgument(String)
    /// LAPACK's dsyevd did not converge (its `info`).
    case eigendecompositionFailed(Int)
    /// A matrix that must be positive semidefinite has a clearly negative eigenvalue.
    case notPositiveSemidefinite(String, smallestEigenvalue: Double)

    public var description: String {
        switch self {
        case let .dimensionMismatch(what, a, b):
            "\(what): feature dimensions differ (\(a) and \(b))"
        case let .tooFewSamples(what, needed, got):
            "\(what): needs at least \(needed) samples, got \(got)"
        case let .nonFiniteValue(what):
            "\(what) holds a NaN or an infinity"
        case let .invalidArgument(reason):
            reason
        case let .eigendecompositionFailed(info):
            "symmetric eigendecomposition (LAPACK dsyevd) did not converge (info \(info))"
        case let .notPositiveSemidefinite(what, smallest):
            "\(what) is not positive semidefinite (eigenvalue \(smallest))"
        }
    }

    public var errorDescription: String? { description }
}
