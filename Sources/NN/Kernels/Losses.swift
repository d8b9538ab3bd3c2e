import Foundation

/// Mean squared error, mean over all elements; returns the loss and d loss / d x. With
/// `sampleWeights` (one per row of dimension 0), row i's squared errors count w_i times:
/// loss = mean_i w_i mean_j (x_ij - t_ij)^2, as min-SNR loss weighting needs.
func mseLoss(_ x: Tensor, target: Tensor, sampleWeights: [Float]? = nil) -> (loss: Float, gradient: Tensor) {
    precondition(x.shape == target.shape, "mse: \(x.shape) vs \(target.shape)")
    let rows = sampleWeights?.count ?? 1
    precondition(sampleWeights == nil || (x.rank > 0 && x.shape[0] == rows), "mse: \(rows) weights for shape \(x.shape)")
    var gradient = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, pt = target.pointer, pg = gradient.mutablePointer()
    let perRow = x.count / max(rows, 1)
    var total = 0.0
    for r in 0..<rows {
        let weight = sampleWeights?[r] ?? 1
        let scale = 2 * weight / Float(max(x.count, 1))
        var rowTotal = 0.0
        for i in (r * perRow)..<((r + 1) * perRow) {
            let d = px[i] - pt[i]
            rowTotal += Double(d * d)
            pg[i] = scale * d
        }
        total += Double(weight) * rowTotal
    }
    return (Float(total / Double(max(x.count, 1))), gradient)
}

/// Softmax cross-entropy of logits (N, K) against class ids, mean over rows; returns the loss
/// and d loss / d logits = (softmax - onehot) / N.
func crossEntropyLoss(_ logits: Tensor, labels: [Int]) -> (loss: Float, gradient: Tensor) {
    precondition(logits.rank == 2 && logits.shape[0] == labels.count, "cross entropy: \(logits.shape), \(labels.count) labels")
    let (rows, classes) = (logits.shape[0], logits.shape[1])
    var gradient = softmaxForward(logits)
    let pg = gradient.mutablePointer(), pl = logits.pointer
    var total = 0.0
    for r in 0..<rows {
        let label = labels[r]
        precondition(label >= 0 && label < classes, "cross entropy: label \(label) outside 0..<\(classes)")
        // -log softmax[label] = logsumexp(row) - row[label], computed stably.
        let row = pl + r * classes
        var largest = -Float.infinity
        for c in 0..<classes { largest = max(largest, row[c]) }
        var sum = 0.0
        for c in 0..<classes { sum += Foundation.exp(Double(row[c] - largest)) }
        total += Double(largest) + Foundation.log(sum) - Double(row[label])
        pg[r * classes + label] -= 1
    }
    let inverse = 1 / Float(max(rows, 1))
    for i in 0..<gradient.count { pg[i] *= inverse }
    return (Float(total / Double(max(rows, 1))), gradient)
}
