/// Table lookup, as torch.nn.Embedding: row i of the output is row indices[i] of the table.

/// table (V, D), indices in 0..<V -> (indices.count, D).
func embeddingForward(_ table: Tensor, indices: [Int]) -> Tensor {
    precondition(table.rank == 2, "embedding table must be 2-D, got \(table.shape)")
    let width = table.shape[1]
    var out = Tensor(uninitializedShape: [indices.count, width])
    let pt = table.pointer, po = out.mutablePointer()
    for (row, index) in indices.enumerated() {
        precondition(index >= 0 && index < table.shape[0], "embedding index \(index) outside 0..<\(table.shape[0])")
        (po + row * width).update(from: pt + index * width, count: width)
    }
    return out
}

/// The table's gradient: each output row's gradient added to the row it was read from.
func embeddingBackward(tableShape: [Int], indices: [Int], gradOut: Tensor) -> Tensor {
    let width = tableShape[1]
    var gt = Tensor.zeros(tableShape)
    let pg = gradOut.pointer, pt = gt.mutablePointer()
    for (row, index) in indices.enumerated() {
        for j in 0..<width { pt[index * width + j] += pg[row * width + j] }
    }
    return gt
}
