/// 3x3, stride-1, padding-1 convolution by Winograd's minimal filtering F(m x m, 3x3) (Lavin &
/// Gray 2016; transforms in WinogradTransforms.swift).
///
/// Shapes: x (N, Cin, H, W), out (N, Cout, H, W). The output is cut into m x m tiles, tilesDown x
/// tilesAcross per image (the last row and column of tiles may hang over the border); each reads
/// an α x α input tile (α = m + 2) of the zero-padded input. With P = α² transform points:
///
/// - the filter becomes U (P, Cout, Cin): U[ξ] = (G g G^T)[ξ] for each channel pair;
/// - a chunk of images becomes V (P, Cin, tiles): V[ξ] = (B^T d B)[ξ] for each channel and tile;
/// - one SGEMM per point gives M[ξ] (Cout, tiles) = U[ξ] (Cout, Cin) x V[ξ] (Cin, tiles);
/// - each output tile is A^T M A (m x m), plus the bias.
///
/// As in conv2dForward, images are processed in chunks shared out among the cores, each core
/// transforming its own chunks and running single-threaded GEMMs on them.
struct WinogradGeometry {
    let batch, inChannels, outChannels, height, width: Int
    /// m and α.
    let outputTile, inputTile: Int

    init<Tiling: WinogradTiling>(input: [Int], outChannels: Int, tiling: Tiling.Type) {
        precondition(input.count == 4, "winograd: input shape \(input)")
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        self.outChannels = outChannels
        (outputTile, inputTile) = (Tiling.outputSize, Tiling.inputSize)
    }

    var points: Int { inputTile * inputTile }
    var tilesDown: Int { (height + outputTile - 1) / outputTile }
    var tilesAcross: Int { (width + outputTile - 1) / outputTile }
    var tilesPerImage: Int { tilesDown * tilesAcross }

    /// Images per chunk: enough for about `targetTiles` GEMM columns, but few enough that every
    /// core gets a chunk.
    var imagesPerChunk: Int {
        let perCore = (batch + coreCount - 1) / coreCount
        return max(1, min(perCore, WinogradGeometry.targetTiles / tilesPerImage))
    }

    /// GEMM columns per chunk aimed at: wide enough for BLAS, small enough that a chunk's
    /// transformed input and products stay near the core's cache.
    static let targetTiles = 256

    var chunkTiles: Int { imagesPerChunk * tilesPerImage }
    var chunkCount: Int { (batch + imagesPerChunk - 1) / imagesPerChunk }

    func images(ofChunk chunk: Int) -> Range<Int> {
        chunk * imagesPerChunk ..< min((chunk + 1) * imagesPerChunk, batch)
    }
}

/// The convolution of x with the 3x3 `weight` (or, `forInputGradient`, with its transpose:
/// see `winogradFilter`) by Winograd F(m x m, 3x3) with output tiles of side `tileSize` (2 or 4).
func winogradConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, forInputGradient: Bool, tileSize: Int) -> Tensor {
    switch tileSize {
    case 2:
        let filter = winogradFilter(weight, forInputGradient: forInputGradient, tiling: WinogradF2.self)
        return winogradConv2d(x, filter: filter, bias: bias, tiling: WinogradF2.self)
    case 4:
        let filter = winogradFilter(weight, forInputGradient: forInputGradient, tiling: WinogradF4.self)
        return winogradConv2d(x, filter: filter, bias: bias, tiling: WinogradF4.self)
    default: preconditionFailure("winograd: no tiles of size \(tileSize)")
    }
}

/// The transformed filter U (P, Cout, Cin) of a 3x3 weight (Cout, Cin, 3, 3). For the input
/// gradient (`forInputGradient`), the filter of the transposed convolution instead: kernels
/// flipped and channels swapped, U (P, Cin, Cout), since the input gradient of a stride-1,
/// padding-1 3x3 convolution is such a convolution of the output gradient.
func winogradFilter<Tiling: WinogradTiling>(_ weight: Tensor, forInputGradient: Bool,
                                            tiling: Tiling.Type) -> Tensor {
    precondition(weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3,
                 "winograd: weight shape \(weight.shape)")
    let (cout, cin) = (weight.shape[0], weight.shape[1])
    let (outs, ins) = forInputGradient ? (cin, cout) : (cout, cin)
    let pairs = outs * ins, alpha = Tiling.inputSize
    // taps (9, pairs) -> rows transformed (3, α, pairs) -> U (α, α, pairs).
    var taps = Tensor(uninitializedShape: [9, pairs]), rows = Tensor(uninitializedShape: [3, alpha, pairs])
    var u = Tensor(uninitializedShape: [alpha * alpha, outs, ins])
    let pw = weight.pointer, ptaps = taps.mutablePointer(), prows = rows.mutablePointer(), pu = u.mutablePointer()
    for o in 0..<outs {
        for i in 0..<ins {
            let pair = o * ins + i
            for tap in 0..<9 {
                ptaps[tap * pairs + pair] = forInputGradient ? pw[(i * cin + o) * 9 + 8 - tap] : pw[(o * cin + i) * 9 + tap]
            }
        }
    }
    for a in 0..<3 {
        transformArrays(.filter, tiling, count: pairs, source: ptaps + a * 3 * pairs, sourceStep: pairs,
                        destination: prows + a * alpha * pairs, destinationStep: pairs)
    }
    for l in 0..<alpha {
        transformArrays(.filter, tiling, count: pairs, source: prows + l * pairs, sourceStep: alpha * pairs,
                        destination: pu + l * pairs, destinationStep: alpha * pairs)
    }
    withExtendedLifetime((taps, rows)) {}
    return u
}

/// The convolution of x (N, Cin, H, W) with the transformed filter (P, Cout, Cin) from
/// `winogradFilter`, plus `bias` (Cout) if given: returns out (N, Cout, H, W).
func winogradConv2d<Tiling: WinogradTiling>(_ x: Tensor, filter: Tensor, bias: Tensor?,
                                            tiling: Tiling.Type) -> Tensor {
    let outChannels = filter.shape[1]
    let g = WinogradGeometry(input: x.shape, outChannels: outChannels, tiling: tiling)
    precondition(filter.shape == [g.points, outChannels, g.inChannels],
                 "winograd: filter \(filter.shape) does not match input \(x.shape)")
    var out = Tensor(uninitializedShape: [g.batch, outChannels, g.height, g.width])
    let px = x.pointer, pu = filter.pointer, pbias = bias?.pointer, po = out.mutablePointer()
    parallelChunks(g.chunkCount, grain: 1) { chunks in
        // V (P, Cin, chunkTiles) and M (P, Cout, chunkTiles).
        var v = Tensor(uninitializedShape: [g.points * g.inChannels * g.chunkTiles])
        var m = Tensor(uninitializedShape: [g.points * outChannels * g.chunkTiles])
        var paddedRow = Tensor.zeros([paddedRowLength(g)])
        let pv = v.mutablePointer(), pm = m.mutablePointer(), prow = paddedRow.mutablePointer()
        for chunk in chunks {
            let images = g.images(ofChunk: chunk)
            let tiles = images.count * g.tilesPerImage
            for c in 0..<g.inChannels {
                transformInputTiles(px, g, images: images, channel: c, paddedRow: prow, into: pv, tiling: tiling)
            }
            for point in 0..<g.points {
                sgemm(m: outChannels, n: tiles, k: g.inChannels,
                      a: pu + point * outChannels * g.inChannels, lda: g.inChannels,
                      b: pv + point * g.inChannels * g.chunkTiles, ldb: g.chunkTiles,
                      c: pm + point * outChannels * g.chunkTiles, ldc: g.chunkTiles)
            }
            for c in 0..<outChannels {
                transformOutputTiles(pm, g, images: images, channel: c, bias: pbias?[c] ?? 0,
                                     into: po, tiling: tiling)
            }
        }
        withExtendedLifetime((v, m, paddedRow)) {}
    }
    return out
}

/// Writes channel `channel`'s transformed input tiles of images `images` of x into V (P, Cin,
/// chunkTiles). Tile (i, j) reads rows m i - 1 ..< m i + m + 1 and the same columns of the
/// zero-padded input. Each input row is copied into `paddedRow` (`paddedRowLength` floats, zero
/// outside the copied part), its tiles deinterleaved eight at a time and transformed along
/// the row (B^T on the right); then B^T on the left is applied in place, across all the
/// chunk's tiles at once.
func transformInputTiles<Tiling: WinogradTiling>(_ x: UnsafePointer<Float>, _ g: WinogradGeometry,
                                                 images: Range<Int>, channel: Int,
                                                 paddedRow: UnsafeMutablePointer<Float>,
                                                 into v: UnsafeMutablePointer<Float>, tiling: Tiling.Type) {
    let (m, alpha, across) = (g.outputTile, g.inputTile, g.tilesAcross)
    let pointStride = g.inChannels * g.chunkTiles
    let base = v + channel * g.chunkTiles
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * 8 * alpha) { buffer in
        let gathered = VectorRows(buffer.baseAddress!, step: 8)
        let transformed = VectorRows(buffer.baseAddress! + 8 * alpha, step: 8)
        for (slot, image) in images.enumerated() {
            let plane = x + (image * g.inChannels + channel) * g.height * g.width
            for i in 0..<g.tilesDown {
                let tileRow = base + slot * g.tilesPerImage + i * across
                for s in 0..<alpha {
                    let y = m * i + s - 1
                    let dst = tileRow + s * alpha * pointStride
                    guard y >= 0 && y < g.height else {
                        for l in 0..<alpha { (dst + l * pointStride).update(repeating: 0, count: across) }
                        continue
                    }
                    (paddedRow + 1).update(from: plane + y * g.width, count: g.width)
                    for first in stride(from: 0, to: across, by: 8) {
                        Tiling.gatherTiles(paddedRow + m * first, gathered)
                        let lanes = min(8, across - first)
                        if lanes == 8 {
                            Tiling.transformInput(gathered, VectorRows(dst + first, step: pointStride))
                            continue
                        }
                        Tiling.transformInput(gathered, transformed)
                        for l in 0..<alpha {
                            (dst + l * pointStride + first).update(from: buffer.baseAddress! + (alpha + l) * 8, count: lanes)
                        }
                    }
                }
            }
        }
    }
    let tiles = images.count * g.tilesPerImage
    for t in 0..<alpha {
        let column = base + t * pointStride
        transformArrays(.input, tiling, count: tiles, source: column, sourceStep: alpha * pointStride,
                        destination: column, destinationStep: alpha * pointStride)
    }
}

/// The length of the padded row buffer `transformInputTiles` needs: room for the row, one zero
/// on each side, and what deinterleaving the last eight tiles reads past it.
func paddedRowLength(_ g: WinogradGeometry) -> Int { g.outputTile * (g.tilesAcross + 8) + 2 }

/// Turns channel `channel`'s products in M (P, Cout, chunkTiles) into output tiles, in place
/// (A^T along the tile's columns, then its rows), and writes them with `bias` added into the
/// images `images` of out (N, Cout, H, W), dropping the parts of tiles beyond the border.
func transformOutputTiles<Tiling: WinogradTiling>(_ products: UnsafeMutablePointer<Float>, _ g: WinogradGeometry,
                                                  images: Range<Int>, channel: Int, bias: Float,
                                                  into out: UnsafeMutablePointer<Float>, tiling: Tiling.Type) {
    let (m, alpha, across) = (g.outputTile, g.inputTile, g.tilesAcross)
    let pointStride = g.outChannels * g.chunkTiles
    let base = products + channel * g.chunkTiles
    let tiles = images.count * g.tilesPerImage
    for t in 0..<alpha {
        let column = base + t * pointStride
        transformArrays(.output, tiling, count: tiles, source: column, sourceStep: alpha * pointStride,
                        destination: column, destinationStep: alpha * pointStride)
    }
    for r in 0..<m {
        let row = base + r * alpha * pointStride
        transformArrays(.output, tiling, count: tiles, source: row, sourceStep: pointStride,
                        destination: row, destinationStep: pointStride)
    }
    for (slot, image) in images.enumerated() {
        let plane = out + (image * g.outChannels + channel) * g.height * g.width
        for i in 0..<g.tilesDown {
            for r in 0..<min(m, g.height - m * i) {
                let row = plane + (m * i + r) * g.width
                for q in 0..<m {
                    let src = base + (r * alpha + q) * pointStride + slot * g.tilesPerImage + i * across
                    // Tile j writes column m j + q: inside the image for j < end.
                    let end = min(across, (g.width - q + m - 1) / m)
                    for j in 0..<end { row[m &* j &+ q] = src[j] + bias }
                }
            }
        }
    }
}
