import Kernels

/// 3x3, stride-1, padding-1 convolution by Winograd's minimal filtering F(m x m, 3x3) (Lavin &
/// Gray 2016; transforms in WinogradTransforms.swift).
///
/// Shapes: x (N, Cin, H, W), out (N, Cout, H, W). The output is cut into m x m tiles, tilesDown x
/// tilesAcross per image (the last row and column of tiles may hang over the border); each reads
/// an α x α input tile (α = m + 2) of the zero-padded input. With P = α² transform points:
///
/// - the filter becomes U (P, Cout, Cin): U[ξ] = (G g G^T)[ξ] for each channel pair;
/// - an image becomes V (P, Cin, tiles): V[ξ] = (B^T d B)[ξ] for each channel and tile;
/// - one SGEMM per point gives M[ξ] (Cout, tiles) = U[ξ] (Cout, Cin) x V[ξ] (Cin, tiles);
/// - each output tile is A^T M A (m x m), plus the bias.
///
/// As in conv2dForward, the images are shared out among the cores, each core transforming its
/// own and running single-threaded GEMMs on them, one image at a time: a GEMM never spans two
/// images, so an image's output does not depend on its batch (see Conv2d.swift).
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

    /// Floats per (point, channel) row of V, M and Y: the image's tiles and eight more, so that
    /// a block of eight tiles is read and written whole even where it runs past the last tile
    /// (the extra lanes land on tiles written later, or in the padding).
    var tileRowLength: Int { tilesPerImage + 8 }

    /// The sizes as the C tile transforms take them.
    var kernelGeometry: dk_winograd {
        dk_winograd(in_channels: inChannels, out_channels: outChannels, height: height, width: width,
                    tiles_down: tilesDown, tiles_across: tilesAcross, tile_row_length: tileRowLength,
                    output_tile: outputTile)
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
                                            tiling: Tiling.Type, level: SIMDLevel = .native) -> Tensor {
    let outChannels = filter.shape[1]
    let g = WinogradGeometry(input: x.shape, outChannels: outChannels, tiling: tiling)
    precondition(filter.shape == [g.points, outChannels, g.inChannels],
                 "winograd: filter \(filter.shape) does not match input \(x.shape)")
    var out = Tensor(uninitializedShape: [g.batch, outChannels, g.height, g.width])
    let px = x.pointer, pu = filter.pointer, pbias = bias?.pointer, po = out.mutablePointer()
    parallelChunks(g.batch, grain: 1) { batchImages in
        // V (P, Cin, tileRowLength) and M (P, Cout, tileRowLength).
        var v = Tensor(uninitializedShape: [g.points * g.inChannels * g.tileRowLength])
        var m = Tensor(uninitializedShape: [g.points * outChannels * g.tileRowLength])
        var paddedRows = Tensor.zeros([g.inputTile * paddedRowLength(g)])
        let pv = v.mutablePointer(), pm = m.mutablePointer(), prows = paddedRows.mutablePointer()
        for image in batchImages {
            let images = image..<image + 1, tiles = g.tilesPerImage
            for c in 0..<g.inChannels {
                transformInputTiles(px, g, images: images, channel: c, paddedRows: prows, into: pv, level: level)
            }
            for point in 0..<g.points {
                sgemm(m: outChannels, n: tiles, k: g.inChannels,
                      a: pu + point * outChannels * g.inChannels, lda: g.inChannels,
                      b: pv + point * g.inChannels * g.tileRowLength, ldb: g.tileRowLength,
                      c: pm + point * outChannels * g.tileRowLength, ldc: g.tileRowLength)
            }
            for c in 0..<outChannels {
                transformOutputTiles(pm, g, images: images, channel: c, bias: pbias?[c] ?? 0, into: po, level: level)
            }
        }
        withExtendedLifetime((v, m, paddedRows)) {}
    }
    return out
}

/// Writes channel `channel`'s transformed input tiles of images `images` into V (P, Cin,
/// tileRowLength), at the tile index slot * tilesPerImage + tile (slot: the image's place in
/// `images`; the convolutions pass one image at a time): the α x α tile
/// of output tile (i, j) is the input's rows m i - 1 ..< m i - 1 + α and the same columns, zero
/// outside the image. Eight tiles at a time (Sources/Kernels/winograd.h): their α input rows are
/// read from `paddedRows` (α zero-padded copies of the tile row's input rows, `paddedRowLength`
/// floats each), deinterleaved and transformed along the rows (B^T on the right), then along the
/// columns (B^T on the left) in registers; V is written once. Channels must be written in
/// increasing order (a block's lanes past its tile row overwrite tiles, or the next channel's
/// row, written later).
func transformInputTiles(_ x: UnsafePointer<Float>, _ g: WinogradGeometry, images: Range<Int>, channel: Int,
                         paddedRows: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>,
                         level: SIMDLevel = .native) {
    var geometry = g.kernelGeometry
    level.kernels.winograd_input_tiles(&geometry, x, images.lowerBound, images.count, channel, paddedRows, v)
}

/// The length of each padded row `transformInputTiles` reads: room for the row, one zero on each
/// side, and what deinterleaving the last eight tiles reads past it.
func paddedRowLength(_ g: WinogradGeometry) -> Int { g.outputTile * (g.tilesAcross + 8) + 2 }

/// Turns channel `channel`'s products in M (P, Cout, tileRowLength) into output tiles and writes
/// them with `bias` added into the images `images` of out (N, Cout, H, W), dropping the parts of
/// tiles beyond the border. Eight tiles at a time (Sources/Kernels/winograd.h): A^T along the
/// tiles' columns, then their rows, in registers; then the rows of the eight tiles are stored
/// side by side.
func transformOutputTiles(_ products: UnsafePointer<Float>, _ g: WinogradGeometry, images: Range<Int>, channel: Int,
                          bias: Float, into out: UnsafeMutablePointer<Float>, level: SIMDLevel = .native) {
    var geometry = g.kernelGeometry
    level.kernels.winograd_output_tiles(&geometry, products, images.lowerBound, images.count, channel, bias, out)
}
