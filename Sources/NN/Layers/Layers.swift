/// The basic layers, with PyTorch's parameter names and default initialization.

/// nn.Linear: y = x W^T + b; weight (out, in), bias (out).
public final class Linear: Module {
    public let weight: Variable
    public let bias: Variable?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, seeds: inout SeedSequence) {
        weight = .parameter(uniformInit([outFeatures, inFeatures], fanIn: inFeatures, seeds: &seeds))
        self.bias = bias ? .parameter(uniformInit([outFeatures], fanIn: inFeatures, seeds: &seeds)) : nil
    }

    public var namedParameters: [(name: String, parameter: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Variable) -> Variable { linear(x, weight: weight, bias: bias) }
}

/// nn.Conv2d with a square kernel; weight (out, in, k, k), bias (out).
public final class Conv2d: Module {
    public let weight: Variable
    public let bias: Variable?
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, seeds: inout SeedSequence) {
        let fanIn = inChannels * kernelSize * kernelSize
        weight = .parameter(uniformInit([outChannels, inChannels, kernelSize, kernelSize], fanIn: fanIn, seeds: &seeds))
        self.bias = bias ? .parameter(uniformInit([outChannels], fanIn: fanIn, seeds: &seeds)) : nil
        self.stride = stride
        self.padding = padding
    }

    public var namedParameters: [(name: String, parameter: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
    }
}

/// nn.GroupNorm with affine parameters: weight starts at ones, bias at zeros.
public final class GroupNorm: Module {
    public let weight: Variable
    public let bias: Variable
    public let groups: Int
    public let eps: Float

    public init(groups: Int, channels: Int, eps: Float = 1e-5) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels in \(groups) groups")
        weight = .parameter(.ones([channels]))
        bias = .parameter(.zeros([channels]))
        self.groups = groups
        self.eps = eps
    }

    public var namedParameters: [(name: String, parameter: Variable)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Variable) -> Variable {
        groupNorm(x, weight: weight, bias: bias, groups: groups, eps: eps)
    }

    /// silu(self(x)), fused.
    public func activated(_ x: Variable) -> Variable {
        groupNormSiLU(x, weight: weight, bias: bias, groups: groups, eps: eps)
    }
}

/// nn.Embedding: a table of `count` vectors of `dimension`, initialized N(0, 1) as PyTorch does.
public final class Embedding: Module {
    public let weight: Variable

    public init(count: Int, dimension: Int, seeds: inout SeedSequence) {
        weight = .parameter(.randn([count, dimension], seed: seeds.next()))
    }

    public var namedParameters: [(name: String, parameter: Variable)] { [("weight", weight)] }

    public func callAsFunction(_ indices: [Int]) -> Variable { embedding(weight, indices: indices) }
}
