/// Layers are classes of named parameters whose names are PyTorch `state_dict` keys, so a model
/// saves to and loads from safetensors under the names diffusers uses
/// (`down_blocks.0.resnets.0.conv1.weight`).
public protocol Module: AnyObject {
    /// This module's parameters with their names relative to it, children's names prefixed
    /// by the child's attribute name (see `prefixed`).
    var namedParameters: [(name: String, parameter: Variable)] { get }
}

/// A child's parameters, named as PyTorch names them inside the parent: "prefix.name".
public func prefixed(_ prefix: String, _ child: Module?) -> [(name: String, parameter: Variable)] {
    (child?.namedParameters ?? []).map { (prefix + "." + $0.name, $0.parameter) }
}

/// The parameters of a list of children, named as an `nn.ModuleList`: "prefix.0.name", ...
public func prefixed(_ prefix: String, _ children: [Module]) -> [(name: String, parameter: Variable)] {
    children.enumerated().flatMap { prefixed("\(prefix).\($0.offset)", $0.element) }
}

/// Why a state dict does not fit a module.
public struct StateDictError: Error, CustomStringConvertible {
    public let description: String
}

extension Module {
    public var parameters: [Variable] { namedParameters.map(\.parameter) }

    /// The parameter values by name.
    public func stateDict() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: namedParameters.map { ($0.name, $0.parameter.value) })
    }

    /// Replaces every parameter value with the tensor of the same name. Checks the whole dict
    /// before changing anything: a missing name, an unexpected name or a shape that differs
    /// is an error, and the module is left as it was.
    public func load(stateDict: [String: Tensor]) throws {
        let named = namedParameters
        var problems: [String] = []
        for (name, parameter) in named {
            guard let tensor = stateDict[name] else { problems.append("missing \(name)"); continue }
            if tensor.shape != parameter.value.shape {
                problems.append("\(name) has shape \(tensor.shape), the model expects \(parameter.value.shape)")
            }
        }
        let known = Set(named.map(\.name))
        problems += stateDict.keys.filter { !known.contains($0) }.sorted().map { "unexpected \($0)" }
        guard problems.isEmpty else {
            let shown = problems.prefix(5).joined(separator: "; ")
            throw StateDictError(description: shown + (problems.count > 5 ? " (and \(problems.count - 5) more)" : ""))
        }
        for (name, parameter) in named { parameter.value = stateDict[name]! }
    }
}

/// Hands out distinct, reproducible seeds for initializing a model's parameters in order.
public struct SeedSequence {
    private let base: UInt64
    private var index: UInt64 = 0

    public init(seed: UInt64) { base = seed }

    public mutating func next() -> UInt64 {
        index += 1
        return SeedSequence.derive(base, index)
    }

    /// Seed number `index` derived from `seed`: splitmix64 of (seed, index), so nearby indices
    /// give unrelated seeds. Streams of one run (noise, timesteps, sampler steps) use it.
    public static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var z = seed &+ index &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// PyTorch's default initialization for linear and conv layers (kaiming uniform with a = sqrt(5),
/// which reduces to U(-1/sqrt(fanIn), 1/sqrt(fanIn)), for weights and biases alike).
func uniformInit(_ shape: [Int], fanIn: Int, seeds: inout SeedSequence) -> Tensor {
    let bound = 1 / Float(max(fanIn, 1)).squareRoot()
    return Tensor.rand(shape, seed: seeds.next()) * (2 * bound) - bound
}
