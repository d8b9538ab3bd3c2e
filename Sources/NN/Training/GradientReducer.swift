/// Sums gradients over the processes of a data-parallel run, between a step's backward pass
/// and its update: each process computes the gradients of its slice of the batch, and after
/// `sum` every process holds the whole batch's and applies the same update. One process needs
/// nothing (`SingleProcess`); many use MPI (the Distributed module), which only this protocol
/// lets the training code see.
public protocol GradientReducer: AnyObject {
    /// This process's number, 0 ..< size; process 0 writes the run's files.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` by their element-wise sum over all processes, the same on every one.
    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
    /// The largest of `value` over all processes (to agree on whether to stop).
    func maximum(_ value: Int32) throws -> Int32
}

/// One process: sums and maxima of one.
public final class SingleProcess: GradientReducer {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func maximum(_ value: Int32) -> Int32 { value }
}
