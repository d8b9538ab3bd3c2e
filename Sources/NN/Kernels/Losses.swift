import Foundation

/// Mean squared error, mean over all elements; returns the loss and d loss / d x.
func mseLoss(_ x: Tensor, target: Tensor) -> (loss: Float, gradient: Tensor) {
    precondition(x.shape == target.shape, "mse: \(x.shape) vs \(target.shape)")
    var gradient = Tensor(uninitializedShape: x.shape)
    let px = x.pointer, pt = target.pointer, pg = gradient.mutablePointer()
    let scale = 2 / Float(max(x.count, 1))
    var total = 0.0
    for i in 0..<x.count {
        let d = px[i] - pt[i]
        total += Double(d * d)
        pg[i] = scale * d
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
