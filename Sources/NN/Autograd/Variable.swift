/// Reverse-mode automatic differentiation.
///
/// A training forward pass starts from a `Tape` watching the model's parameters, with inputs
/// bound to it; every op whose inputs include a taped variable and something that requires a
/// gradient records how to send its output's gradient back to its inputs. `Tape.backward(from:)` replays those records in reverse.
/// Inference uses untaped inputs, so nothing is recorded and no activation is kept.
public final class Tape {
    private var records: [() -> Void] = []

    /// A tape that records every op on `parameters` (a model's, for a training step), including
    /// ops whose other inputs are untaped, such as an embedding lookup or a layer applied to
    /// features computed outside the graph. The parameters leave the tape when it is freed.
    public init(watching parameters: [Variable] = []) {
        for parameter in parameters { parameter.tape = self }
    }

    /// `tensor` as an input of this tape's computation (data: it needs no gradient itself).
    public func input(_ tensor: Tensor, requiresGradient: Bool = false) -> Variable {
        Variable(tensor, requiresGradient: requiresGradient, tape: self)
    }

    /// The number of recorded ops.
    public var count: Int { records.count }

    func record(_ backward: @escaping () -> Void) { records.append(backward) }

    /// Back-propagates from `output`, seeded with `gradient` (ones by default, for a scalar loss),
    /// accumulating into the `gradient` of every variable that requires one. Clears the tape.
    public func backward(from output: Variable, gradient: Tensor? = nil) {
        output.accumulate(gradient ?? Tensor.ones(output.value.shape))
        for backward in records.reversed() { backward() }
        records.removeAll()
    }
}

/// A tensor in a differentiable computation: a parameter, an input, or an op's output.
public final class Variable {
    public var value: Tensor
    /// The accumulated gradient of the loss with respect to `value`, once backward has reached it.
    public var gradient: Tensor?
    public let requiresGradient: Bool
    /// The tape recording ops on this variable (weak: the tape's records hold variables).
    weak var tape: Tape?

    public init(_ value: Tensor, requiresGradient: Bool = false) {
        self.value = value
        self.requiresGradient = requiresGradient
    }

    init(_ value: Tensor, requiresGradient: Bool, tape: Tape?) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.tape = tape
    }

    /// A trainable tensor: requires a gradient, belongs to no tape.
    public static func parameter(_ value: Tensor) -> Variable { Variable(value, requiresGradient: true) }

    public var shape: [Int] { value.shape }

    func accumulate(_ g: Tensor) {
        precondition(g.count == value.count, "gradient \(g.shape) for value \(value.shape)")
        if gradient == nil { gradient = g.reshaped(value.shape) } else { addInPlace(&gradient!, g) }
    }

    /// Whether an op on `inputs` is recorded: some input is taped and some requires a gradient.
    /// An op that would keep tensors only for its backward pass asks first.
    static func isRecorded(_ inputs: [Variable]) -> Bool {
        inputs.contains { $0.tape != nil } && inputs.contains(where: \.requiresGradient)
    }

    /// Builds an op's output. When any input is taped and any requires a gradient, records
    /// `backward`, which receives the output's gradient (the output's gradient is released
    /// afterwards: every consumer has added to it by then).
    static func result(_ value: Tensor, of inputs: [Variable],
                       backward: @escaping (_ gradient: Tensor) -> Void) -> Variable {
        guard isRecorded(inputs), let tape = inputs.lazy.compactMap(\.tape).first else { return Variable(value) }
        let out = Variable(value, requiresGradient: true, tape: tape)
        tape.record {
            guard let g = out.gradient else { return }
            out.gradient = nil
            backward(g)
        }
        return out
    }
}
