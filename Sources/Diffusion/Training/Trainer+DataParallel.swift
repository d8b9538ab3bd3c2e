import NN

/// A step shared by several processes (data parallelism): each takes a contiguous slice of the
/// batch, and the slices' gradients and losses, laid out in one buffer, are summed between the
/// backward pass and the update.
extension Trainer {
    /// Runs step `step` as one of `reducer.size` processes: this process takes its contiguous
    /// slice of the batch, the gradients and losses of all slices are summed by `reducer`, and
    /// every process applies the same update. Returns the whole batch's loss; throws on every
    /// process when any slice's loss is not finite.
    @discardableResult
    public func trainStep(reducer: GradientReducer) throws -> Float {
        guard reducer.size > 1 else { return try trainStep() }
        var buffer = try sliceGradients(part: reducer.rank, of: reducer.size)
        try buffer.withUnsafeMutableBufferPointer { try reducer.sum($0) }
        return try apply(summed: buffer)
    }

    /// Runs step `step` in this process as `parts` processes would: each slice's gradients
    /// computed on their own, then summed in slice order. For 2 parts this is bit for bit what
    /// `mpirun -np 2` computes (a sum of two floats does not depend on their order); for more,
    /// MPI may sum in another order.
    @discardableResult
    public func trainStep(asSlices parts: Int) throws -> Float {
        precondition(parts >= 1, "parts must be positive")
        var total = try sliceGradients(part: 0, of: parts)
        for part in 1..<parts {
            let next = try sliceGradients(part: part, of: parts)
            for i in total.indices { total[i] += next[i] }
        }
        return try apply(summed: total)
    }

    /// Slice `part` of `parts` of step `step`'s batch (contiguous, sizes differing by at most
    /// one; empty when the batch has fewer images than parts): its gradients, every parameter's
    /// in order (zeros where none reached it), then its share of the loss, in one buffer; the
    /// parameters' gradients are left cleared. A non-finite loss is kept in the buffer, so that
    /// every process sees it after the sum.
    private func sliceGradients(part: Int, of parts: Int) throws -> [Float] {
        let count = currentBatchCount
        let slice = (part * count / parts)..<((part + 1) * count / parts)
        var loss: Float = 0
        do {
            if !slice.isEmpty { loss = try accumulateGradients(positions: slice) }
        } catch TrainingError.nonFiniteLoss(_, let value) {
            loss = value
        }
        var buffer = [Float](repeating: 0, count: parameters.reduce(0) { $0 + $1.value.count } + 1)
        var offset = 0
        for parameter in parameters {
            let size = parameter.value.count
            if let gradient = parameter.gradient { buffer.replaceSubrange(offset..<(offset + size), with: gradient.scalars) }
            parameter.gradient = nil
            offset += size
        }
        buffer[offset] = loss
        return buffer
    }

    /// Applies summed slice gradients (as `sliceGradients` lays them out) and returns the loss.
    private func apply(summed buffer: [Float]) throws -> Float {
        let loss = buffer[buffer.count - 1]
        guard loss.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1, loss: loss) }
        var offset = 0
        for parameter in parameters {
            let size = parameter.value.count
            parameter.gradient = Tensor(shape: parameter.value.shape, Array(buffer[offset..<(offset + size)]))
            offset += size
        }
        applyGradients()
        return loss
    }
}
