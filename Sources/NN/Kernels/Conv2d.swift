/// 2-D convolution (cross-correlation, as PyTorch's conv2d), lowered to SGEMM.
///
/// Shapes: x (N, Cin, H, W), weight (Cout, Cin, KH, KW), bias (Cout), out (N, Cout, Ho, Wo) with
/// Ho = (H + 2 padding - KH) / stride + 1. Each image's patches become a column matrix cols
/// (Cin KH KW, Ho Wo), and its output is weight (Cout, Cin KH KW) x cols. The images are shared
/// out among the cores, each core running im2col and a single-threaded GEMM on its own.
///
/// One GEMM never spans two images, so that an image's output does not depend on the batch it
/// came in (OpenBLAS's result for a column changes with the GEMM's width): `diffuse sample` gives
/// the same image for any batch size. Putting several small images in one GEMM measured no
/// faster (Benchmarks/README.md). 3x3, stride-1, padding-1 convolutions go by Winograd's
/// algorithm instead where it is faster (`Conv2dAlgorithm`, Winograd.swift,
/// WinogradWeightGradient.swift).
struct Conv2dGeometry {
    let batch, inChannels, height, width: Int
    let outChannels, kernelHeight, kernelWidth: Int
    let stride, padding: Int

    init(input: [Int], weight: [Int], stride: Int, padding: Int) {
        precondition(input.count == 4 && weight.count == 4 && input[1] == weight[1],
                     "conv2d: input \(input) does not match weight \(weight)")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride), padding \(padding)")
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelHeight, kernelWidth) = (weight[0], weight[2], weight[3])
        (self.stride, self.padding) = (stride, padding)
        precondition(outHeight > 0 && outWidth > 0, "conv2d: kernel larger than padded input \(input)")
    }

    var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    var outPixels: Int { outHeight * outWidth }
    var inPixels: Int { height * width }
    /// Rows of the column matrix: one per (input channel, kernel row, kernel column).
    var patchSize: Int { inChannels * kernelHeight * kernelWidth }
    var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }

    /// A 1x1, stride-1, unpadded convolution reads an image as its own column matrix.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    /// Whether this is a 3x3, stride-1, padding-1 convolution, the kind Winograd's algorithm does.
    var isWinogradShape: Bool { kernelHeight == 3 && kernelWidth == 3 && stride == 1 && padding == 1 }

    /// For a 3x3, stride-1, padding-1 convolution, its input gradient is another: the output
    /// gradient (Cout channels) convolved with the flipped kernels. That convolution's geometry.
    var inputGradientGeometry: Conv2dGeometry? {
        guard isWinogradShape else { return nil }
        return Conv2dGeometry(input: [batch, outChannels, height, width],
                              weight: [inChannels, outChannels, 3, 3], stride: 1, padding: 1)
    }

    /// Row `row` of the column matrix: its input channel and kernel offset, and the output
    /// columns ow whose input column ow * stride - padding + kj lies inside the image.
    func patchRow(_ row: Int) -> (channel: Int, ki: Int, kj: Int, inside: Range<Int>) {
        let kj = row % kernelWidth
        let first = max(0, (padding - kj + stride - 1) / stride)
        let end = max(first, min(outWidth, (width + padding - kj + stride - 1) / stride))
        return (row / (kernelHeight * kernelWidth), (row / kernelWidth) % kernelHeight, kj, first..<end)
    }
}

/// Writes the column matrix of images `images` of x into `cols` (patchSize x images.count*outPixels).
func im2col(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, images: Range<Int>,
            into cols: UnsafeMutablePointer<Float>) {
    var dst = cols
    for row in 0..<g.patchSize {
        let (c, ki, kj, inside) = g.patchRow(row)
        for image in images {
            let plane = x + (image * g.inChannels + c) * g.inPixels
            for oh in 0..<g.outHeight {
                let ih = oh * g.stride - g.padding + ki
                guard ih >= 0 && ih < g.height, !inside.isEmpty else {
                    dst.update(repeating: 0, count: g.outWidth)
                    dst += g.outWidth
                    continue
                }
                let src = plane + ih * g.width - g.padding + kj
                for ow in 0..<inside.lowerBound { dst[ow] = 0 }
                if g.stride == 1 {
                    (dst + inside.lowerBound).update(from: src + inside.lowerBound, count: inside.count)
                } else {
                    for ow in inside { dst[ow] = src[ow * g.stride] }
                }
                for ow in inside.upperBound..<g.outWidth { dst[ow] = 0 }
                dst += g.outWidth
            }
        }
    }
}

/// Adds the column matrix `cols` of images `images` back onto the image gradient gx (the
/// adjoint of im2col: each patch element returns to the pixel it was read from).
func col2im(_ cols: UnsafePointer<Float>, _ g: Conv2dGeometry, images: Range<Int>,
            into gx: UnsafeMutablePointer<Float>) {
    var src = cols
    for row in 0..<g.patchSize {
        let (c, ki, kj, inside) = g.patchRow(row)
        for image in images {
            let plane = gx + (image * g.inChannels + c) * g.inPixels
            for oh in 0..<g.outHeight {
                let ih = oh * g.stride - g.padding + ki
                if ih >= 0 && ih < g.height {
                    let dst = plane + ih * g.width - g.padding + kj
                    if g.stride == 1 {
                        // Contiguous on both sides: a loop the compiler vectorizes.
                        for ow in inside { dst[ow] += src[ow] }
                    } else {
                        for ow in inside { dst[ow * g.stride] += src[ow] }
                    }
                }
                src += g.outWidth
            }
        }
    }
}

/// How conv2d computes the convolutions Winograd's algorithm can do (3x3, stride 1, padding 1).
public enum Conv2dAlgorithm: Sendable {
    /// Winograd where it measured faster than im2col, F(4x4, 3x3) on maps of 16 tiles or more
    /// and F(2x2, 3x3) on smaller ones (see `winogradTileSize`), im2col elsewhere.
    case automatic
    /// im2col + SGEMM for every convolution.
    case im2col
    /// Winograd F(2x2, 3x3) for every 3x3, stride-1, padding-1 convolution: slower than
    /// F(4x4, 3x3), about ten times more accurate in Float32 (as accurate as im2col).
    case winograd2x2
    /// Winograd F(4x4, 3x3) for every 3x3, stride-1, padding-1 convolution.
    case winograd4x4

    /// The algorithm conv2d uses: `.automatic`, unless code runs inside
    /// `Conv2dAlgorithm.$current.withValue(.im2col) { ... }` (benchmarks and tests compare the
    /// algorithms this way; the choice holds for that closure only, on its thread).
    @TaskLocal public static var current = Conv2dAlgorithm.automatic

    /// The output tile side m of the Winograd algorithm conv2d runs `g` by (Winograd.swift), or
    /// nil for im2col.
    func winogradTileSize(_ g: Conv2dGeometry) -> Int? {
        guard g.isWinogradShape else { return nil }
        switch self {
        // With fewer input channels the transforms cost more than the GEMMs save (the U-Net's
        // first convolution, from 1 or 3 channels, runs 2-3 times faster by im2col).
        // F(4x4) needs 2.25 multiplications per output against F(2x2)'s 4, but a map of fewer
        // than 16 4x4 tiles (8x8 and below) makes each image's GEMMs too narrow to run well.
        case .automatic:
            guard g.inChannels >= 8 else { return nil }
            return (g.outHeight + 3) / 4 * ((g.outWidth + 3) / 4) < 16 ? 2 : 4
        case .im2col: return nil
        case .winograd2x2: return 2
        case .winograd4x4: return 4
        }
    }
}

/// Forward convolution: returns out (N, Cout, Ho, Wo).
func conv2dForward(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int,
                   algorithm: Conv2dAlgorithm = .current) -> Tensor {
    let g = Conv2dGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
    if let tileSize = algorithm.winogradTileSize(g) {
        return winogradConv2d(x, weight: weight, bias: bias, forInputGradient: false, tileSize: tileSize)
    }
    var out = Tensor(uninitializedShape: g.outputShape)
    let px = x.pointer, pw = weight.pointer, pbias = bias?.pointer, po = out.mutablePointer()
    parallelChunks(g.batch, grain: 1) { images in
        var cols = g.isPointwise ? nil : Tensor(uninitializedShape: [g.patchSize * g.outPixels])
        let pcols = cols?.mutablePointer()
        for image in images {
            var b = px + image * g.inChannels * g.inPixels
            if let pcols {
                im2col(px, g, images: image..<image + 1, into: pcols)
                b = UnsafePointer(pcols)
            }
            // The GEMM writes the output planes in place, over the bias.
            let planes = po + image * g.outChannels * g.outPixels
            for c in 0..<g.outChannels {
                (planes + c * g.outPixels).update(repeating: pbias?[c] ?? 0, count: g.outPixels)
            }
            sgemm(m: g.outChannels, n: g.outPixels, k: g.patchSize, a: pw, lda: g.patchSize,
                  b: b, ldb: g.outPixels, beta: 1, c: planes, ldc: g.outPixels)
        }
        withExtendedLifetime(cols) {}
    }
    return out
}

/// Backward convolution. Given gradOut (N, Cout, Ho, Wo), returns the gradients of x (nil when
/// not wanted), weight and bias. Where `algorithm` picks Winograd for the convolution, the weight
/// and bias gradients come from Winograd's F(3x3, m x m); where it picks Winograd for the input
/// gradient's convolution (gradOut with the flipped kernels), so does the input gradient; the
/// rest from im2col + SGEMM.
func conv2dBackward(_ x: Tensor, weight: Tensor, gradOut: Tensor, stride: Int, padding: Int,
                    needInputGradient: Bool, algorithm: Conv2dAlgorithm = .current)
    -> (x: Tensor?, weight: Tensor, bias: Tensor) {
    let g = Conv2dGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
    precondition(gradOut.shape == g.outputShape, "conv2d backward: gradient shape \(gradOut.shape)")
    let inputTileSize = needInputGradient ? g.inputGradientGeometry.flatMap(algorithm.winogradTileSize) : nil
    if let tileSize = algorithm.winogradTileSize(g), !needInputGradient || inputTileSize != nil {
        let (gw, gb) = winogradWeightGradient(x, gradOut: gradOut, tileSize: tileSize)
        let gx = inputTileSize.map {
            winogradConv2d(gradOut, weight: weight, bias: nil, forInputGradient: true, tileSize: $0)
        }
        return (gx, gw, gb)
    }
    var gx = needInputGradient && inputTileSize == nil ? Tensor.zeros(x.shape) : nil
    let px = x.pointer, pw = weight.pointer, pgo = gradOut.pointer, pgx = gx?.mutablePointer()
    let columns = g.outPixels
    // Each worker sums its images' weight and bias gradients into its own slice of `partials`;
    // the slices are added up afterwards, in worker order, so the result does not depend on timing.
    let sliceSize = weight.count + g.outChannels
    let workers = workerCount(g.batch, grain: 1)
    var partials = Tensor.zeros([workers, sliceSize])
    let ppartials = partials.mutablePointer()
    parallelWorkers(g.batch) { worker, images in
        var cols = g.isPointwise ? nil : Tensor(uninitializedShape: [g.patchSize * columns])
        let pcols = cols?.mutablePointer()
        let pgw = ppartials + worker * sliceSize, pgb = pgw + weight.count
        for image in images {
            // The image's output gradient as a (Cout, columns) matrix.
            let gy = pgo + image * g.outChannels * columns
            var patches = px + image * g.inChannels * g.inPixels
            if let pcols {
                im2col(px, g, images: image..<image + 1, into: pcols)
                patches = UnsafePointer(pcols)
            }
            // dW += gy (Cout x columns) cols^T (columns x patch); db += row sums of gy.
            sgemm(transB: true, m: g.outChannels, n: g.patchSize, k: columns, a: gy, lda: columns,
                  b: patches, ldb: columns, beta: 1, c: pgw, ldc: g.patchSize)
            for c in 0..<g.outChannels {
                let row = gy + c * columns
                var total: Float = 0
                for i in 0..<columns { total += row[i] }
                pgb[c] += total
            }
            guard let pgx else { continue }
            // dcols = W^T (patch x Cout) gy (Cout x columns), then back onto the image gradient.
            if let pcols {
                sgemm(transA: true, m: g.patchSize, n: columns, k: g.outChannels, a: pw, lda: g.patchSize,
                      b: gy, ldb: columns, c: pcols, ldc: columns)
                col2im(pcols, g, images: image..<image + 1, into: pgx)
            } else {
                sgemm(transA: true, m: g.patchSize, n: columns, k: g.outChannels, a: pw, lda: g.patchSize,
                      b: gy, ldb: columns, c: pgx + image * g.inChannels * g.inPixels, ldc: columns)
            }
        }
        withExtendedLifetime(cols) {}
    }
    var gw = Tensor(uninitializedShape: weight.shape), gb = Tensor(uninitializedShape: [g.outChannels])
    let pgw = gw.mutablePointer(), pgb = gb.mutablePointer()
    for i in 0..<sliceSize {
        var total: Float = 0
        for w in 0..<workers { total += ppartials[w * sliceSize + i] }
        if i < weight.count { pgw[i] = total } else { pgb[i - weight.count] = total }
    }
    if let inputTileSize {
        gx = winogradConv2d(gradOut, weight: weight, bias: nil, forInputGradient: true, tileSize: inputTileSize)
    }
    return (gx, gw, gb)
}
