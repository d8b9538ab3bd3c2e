/// The weight and bias gradients of a 3x3, stride-1, padding-1 convolution by Winograd's
/// F(3x3, m x m), the transpose of the forward F(m x m, 3x3) (Winograd.swift, same tiles).
///
/// Shapes: x (N, Cin, H, W), gradOut (N, Cout, H, W); returns weight (Cout, Cin, 3, 3) and bias
/// (Cout). For each image, the input tiles become V (P, Cin, tiles) = B^T d B as in
/// the forward pass and the output-gradient tiles become Y (P, Cout, tiles) = A dy A^T; one
/// SGEMM per point accumulates S[ξ] (Cout, Cin) += Y[ξ] V[ξ]^T, and at the end each kernel's
/// gradient is G^T S G. Each core sums its images into its own S; the sums are added up in
/// worker order, so the result does not depend on timing.
func winogradWeightGradient(_ x: Tensor, gradOut: Tensor, tileSize: Int) -> (weight: Tensor, bias: Tensor) {
    switch tileSize {
    case 2: return winogradWeightGradient(x, gradOut: gradOut, tiling: WinogradF2.self)
    case 4: return winogradWeightGradient(x, gradOut: gradOut, tiling: WinogradF4.self)
    default: preconditionFailure("winograd: no tiles of size \(tileSize)")
    }
}

/// The weight and bias gradients by tiles of `Tiling`.
func winogradWeightGradient<Tiling: WinogradTiling>(_ x: Tensor, gradOut: Tensor,
                                                    tiling: Tiling.Type) -> (weight: Tensor, bias: Tensor) {
    let outChannels = gradOut.shape[1]
    let g = WinogradGeometry(input: x.shape, outChannels: outChannels, tiling: tiling)
    precondition(gradOut.shape == [g.batch, outChannels, g.height, g.width],
                 "winograd: gradient \(gradOut.shape) does not match input \(x.shape)")
    let pairs = outChannels * g.inChannels
    let sliceSize = g.points * pairs + outChannels
    let workers = workerCount(g.batch, grain: 1)
    var partials = Tensor.zeros([workers, sliceSize])
    let px = x.pointer, pgy = gradOut.pointer, ppartials = partials.mutablePointer()
    parallelWorkers(g.batch) { worker, batchImages in
        var v = Tensor(uninitializedShape: [g.points * g.inChannels * g.tileRowLength])
        var y = Tensor(uninitializedShape: [g.points * outChannels * g.tileRowLength])
        var inputRows = Tensor.zeros([g.inputTile * paddedRowLength(g)]), gradientRow = Tensor.zeros([paddedRowLength(g)])
        let pv = v.mutablePointer(), py = y.mutablePointer()
        let pInputRows = inputRows.mutablePointer(), pGradientRow = gradientRow.mutablePointer()
        let sums = ppartials + worker * sliceSize, biasSums = sums + g.points * pairs
        for image in batchImages {
            let images = image..<image + 1, tiles = g.tilesPerImage
            for c in 0..<g.inChannels {
                transformInputTiles(px, g, images: images, channel: c, paddedRows: pInputRows, into: pv)
            }
            for c in 0..<outChannels {
                transformGradientTiles(pgy, g, images: images, channel: c, paddedRow: pGradientRow, into: py,
                                       tiling: tiling)
                var total: Float = 0
                let plane = pgy + (image * outChannels + c) * g.height * g.width
                for i in 0..<g.height * g.width { total += plane[i] }
                biasSums[c] += total
            }
            for point in 0..<g.points {
                sgemm(transB: true, m: outChannels, n: g.inChannels, k: tiles,
                      a: py + point * outChannels * g.tileRowLength, lda: g.tileRowLength,
                      b: pv + point * g.inChannels * g.tileRowLength, ldb: g.tileRowLength,
                      beta: 1, c: sums + point * pairs, ldc: g.inChannels)
            }
        }
        withExtendedLifetime((v, y, inputRows, gradientRow)) {}
    }
    // S (α, α, pairs) -> G^T along the first axis (3, α, pairs) -> along the second (3, 3, pairs).
    var sums = Tensor(uninitializedShape: [g.points * pairs]), bias = Tensor(uninitializedShape: [outChannels])
    var rows = Tensor(uninitializedShape: [3, g.inputTile, pairs]), taps = Tensor(uninitializedShape: [9, pairs])
    let psums = sums.mutablePointer(), pbias = bias.mutablePointer()
    let prows = rows.mutablePointer(), ptaps = taps.mutablePointer()
    for i in 0..<sliceSize {
        var total: Float = 0
        for w in 0..<workers { total += ppartials[w * sliceSize + i] }
        if i < g.points * pairs { psums[i] = total } else { pbias[i - g.points * pairs] = total }
    }
    let alpha = g.inputTile
    for l in 0..<alpha {
        transformArrays(.weightGradient, tiling, count: pairs, source: psums + l * pairs, sourceStep: alpha * pairs,
                        destination: prows + l * pairs, destinationStep: alpha * pairs)
    }
    for a in 0..<3 {
        transformArrays(.weightGradient, tiling, count: pairs, source: prows + a * alpha * pairs, sourceStep: pairs,
                        destination: ptaps + a * 3 * pairs, destinationStep: pairs)
    }
    var weight = Tensor(uninitializedShape: [outChannels, g.inChannels, 3, 3])
    let pw = weight.mutablePointer()
    for pair in 0..<pairs {
        for tap in 0..<9 { pw[pair * 9 + tap] = ptaps[tap * pairs + pair] }
    }
    withExtendedLifetime((sums, rows, taps)) {}
    return (weight, bias)
}

/// Writes channel `channel`'s transformed output-gradient tiles of images `images` into Y (P,
/// Cout, tileRowLength): tile (i, j) is gradOut's rows m i ..< m i + m and the same columns, zero
/// beyond the border; A is applied along its rows (from a copy of each row in `paddedRow`,
/// deinterleaved eight tiles at a time), then along its columns, across all the images' tiles.
func transformGradientTiles<Tiling: WinogradTiling>(_ gradOut: UnsafePointer<Float>, _ g: WinogradGeometry,
                                                    images: Range<Int>, channel: Int,
                                                    paddedRow: UnsafeMutablePointer<Float>,
                                                    into y: UnsafeMutablePointer<Float>, tiling: Tiling.Type) {
    let (m, alpha, across) = (g.outputTile, g.inputTile, g.tilesAcross)
    let pointStride = g.outChannels * g.tileRowLength
    let base = y + channel * g.tileRowLength
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * alpha) { buffer in
        let gathered = VectorRows(buffer.baseAddress!, step: 8)
        for (slot, image) in images.enumerated() {
            let plane = gradOut + (image * g.outChannels + channel) * g.height * g.width
            for i in 0..<g.tilesDown {
                let tileRow = base + slot * g.tilesPerImage + i * across
                for r in 0..<m {
                    let row = m * i + r
                    let dst = tileRow + r * alpha * pointStride
                    guard row < g.height else {
                        for l in 0..<alpha { (dst + l * pointStride).update(repeating: 0, count: across) }
                        continue
                    }
                    paddedRow.update(from: plane + row * g.width, count: g.width)
                    // eight tiles whole: lanes past the tile row land on tiles written later, or in
                    // the row's padding (see tileRowLength)
                    for first in stride(from: 0, to: across, by: 8) {
                        Tiling.gatherTiles(paddedRow + m * first, gathered)
                        Tiling.transformGradient(gathered, VectorRows(dst + first, step: pointStride))
                    }
                }
            }
        }
    }
    let tiles = images.count * g.tilesPerImage
    for l in 0..<alpha {
        let column = base + l * pointStride
        transformArrays(.gradient, tiling, count: tiles, source: column, sourceStep: alpha * pointStride,
                        destination: column, destinationStep: alpha * pointStride)
    }
}
