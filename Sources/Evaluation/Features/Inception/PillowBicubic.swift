/// Pillow's bicubic resampling of 32-bit float images (mode "F"), as clean-fid resizes each
/// channel to 299 x 299 (Parmar et al. 2022: resizing with a correct, antialiased filter):
/// Keys' cubic with a = -0.5, support 2 pixels widened by the scale when shrinking, weights
/// normalized per output pixel, a horizontal pass then a vertical one, sums in Double, each
/// pass stored as Float.
struct PillowBicubic {
    /// For each output pixel: the first source pixel and the weights from there on.
    let first: [Int]
    let weights: [[Double]]

    init(inSize: Int, outSize: Int) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 2 * filterScale
        var first: [Int] = [], weights: [[Double]] = []
        for o in 0..<outSize {
            let center = (Double(o) + 0.5) * scale
            let lower = max(Int(center - support + 0.5), 0)
            let upper = min(Int(center + support + 0.5), inSize)
            var taps = (lower..<upper).map { i in Self.cubic((Double(i) - center + 0.5) / filterScale) }
            let total = taps.reduce(0, +)
            if total != 0 { taps = taps.map { $0 / total } }
            first.append(lower)
            weights.append(taps)
        }
        (self.first, self.weights) = (first, weights)
    }

    /// Keys' cubic convolution kernel with a = -0.5.
    static func cubic(_ x: Double) -> Double {
        let a = -0.5, x = abs(x)
        if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
        return 0
    }

    /// `plane` (height x width, row-major) resized to `outHeight` x `outWidth`.
    static func resize(_ plane: [Float], height: Int, width: Int, outHeight: Int, outWidth: Int) -> [Float] {
        var rows = plane
        if outWidth != width {
            let taps = PillowBicubic(inSize: width, outSize: outWidth)
            rows = [Float](repeating: 0, count: height * outWidth)
            for y in 0..<height {
                for x in 0..<outWidth {
                    var sum = 0.0
                    for (k, w) in taps.weights[x].enumerated() { sum += Double(plane[y * width + taps.first[x] + k]) * w }
                    rows[y * outWidth + x] = Float(sum)
                }
            }
        }
        guard outHeight != height else { return rows }
        let taps = PillowBicubic(inSize: height, outSize: outHeight)
        var out = [Float](repeating: 0, count: outHeight * outWidth)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                var sum = 0.0
                for (k, w) in taps.weights[y].enumerated() { sum += Double(rows[(taps.first[y] + k) * outWidth + x]) * w }
                out[y * outWidth + x] = Float(sum)
            }
        }
        return out
    }
}
