/// 2-D convolution (cross-correlation, as PyTorch's conv2d), lowered to SGEMM.
///
/// Shapes: x (N, Cin, H, W), weight (Cout, Cin, KH, KW), bias (Cout), out (N, Cout, Ho, Wo) with
/// Ho = (H + 2 padding - KH) / stride + 1. Images are processed in chunks of `imagesPerChunk`:
/// the chunk's patches become a column matrix cols (Cin KH KW, chunk Ho Wo) and the chunk's
/// output is weight (Cout, Cin KH KW) x cols. Small feature maps share one GEMM across several
/// images, so the GEMM stays wide enough to run near BLAS's peak.
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

    /// A 1x1, stride-1, unpadded convolution reads each image as its own column matrix.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }

    /// Images per GEMM: enough for about 1024 output columns, at most the batch.
    var imagesPerChunk: Int { max(1, min(batch, 1024 / max(outPixels, 1))) }

    /// The image ranges of the chunks.
    var chunks: [Range<Int>] {
        Swift.stride(from: 0, to: batch, by: imagesPerChunk).map { $0..<min($0 + imagesPerChunk, batch) }
    }
}

/// Writes the column matrix of images `images` of x into `cols` (patchSize x images.count*outPixels).
func im2col(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, images: Range<Int>,
            into cols: UnsafeMutablePointer<Float>) {
    let columns = images.count * g.outPixels
    parallelChunks(g.patchSize, grain: max(1, 8192 / columns)) { rows in
        for row in rows {
            let c = row / (g.kernelHeight * g.kernelWidth)
            let ki = (row / g.kernelWidth) % g.kernelHeight
            let kj = row % g.kernelWidth
            var dst = cols + row * columns
            for image in images {
                let plane = x + (image * g.inChannels + c) * g.inPixels
                for oh in 0..<g.outHeight {
                    let ih = oh * g.stride - g.padding + ki
                    guard ih >= 0 && ih < g.height else {
                        dst.update(repeating: 0, count: g.outWidth)
                        dst += g.outWidth
                        continue
                    }
                    let src = plane + ih * g.width
                    for ow in 0..<g.outWidth {
                        let iw = ow * g.stride - g.padding + kj
                        dst[ow] = iw >= 0 && iw < g.width ? src[iw] : 0
                    }
                    dst += g.outWidth
                }
            }
        }
    }
}

/// Adds the column matrix `cols` of images `images` back onto the image gradient gx (the
/// adjoint of im2col: each patch element returns to the pixel it was read from).
func col2im(_ cols: UnsafePointer<Float>, _ g: Conv2dGeometry, images: Range<Int>,
            into gx: UnsafeMutablePointer<Float>) {
    let columns = images.count * g.outPixels
    let kernelArea = g.kernelHeight * g.kernelWidth
    // One input channel per task: its rows write only its own planes, so tasks never collide.
    parallelChunks(g.inChannels, grain: max(1, 8192 / (columns * kernelArea))) { channels in
        for c in channels {
            for k in 0..<kernelArea {
                let ki = k / g.kernelWidth, kj = k % g.kernelWidth
                var src = cols + (c * kernelArea + k) * columns
                for image in images {
                    let plane = gx + (image * g.inChannels + c) * g.inPixels
                    for oh in 0..<g.outHeight {
                        let ih = oh * g.stride - g.padding + ki
                        if ih >= 0 && ih < g.height {
                            let dst = plane + ih * g.width
                            for ow in 0..<g.outWidth {
                                let iw = ow * g.stride - g.padding + kj
                                if iw >= 0 && iw < g.width { dst[iw] += src[ow] }
                            }
                        }
                        src += g.outWidth
                    }
                }
            }
        }
    }
}

/// Copies between NCHW planes of a chunk, (images, C, P), and the GEMM layout (C, images * P).
/// `toGemm` gathers into the GEMM layout; otherwise scatters back, adding `bias[c]` if given.
func transposeChunk(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                    images: Int, channels: Int, pixels: Int, toGemm: Bool,
                    bias: UnsafePointer<Float>? = nil) {
    parallelChunks(channels, grain: max(1, 8192 / (images * pixels))) { range in
        for c in range {
            let add = bias?[c] ?? 0
            for image in 0..<images {
                let nchw = (image * channels + c) * pixels
                let gemm = (c * images + image) * pixels
                if toGemm {
                    (dst + gemm).update(from: src + nchw, count: pixels)
                } else {
                    for p in 0..<pixels { dst[nchw + p] = src[gemm + p] + add }
                }
            }
        }
    }
}

/// Forward convolution: returns out (N, Cout, Ho, Wo).
func conv2dForward(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int) -> Tensor {
    let g = Conv2dGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
    var out = Tensor(uninitializedShape: g.outputShape)
    let px = x.pointer, pw = weight.pointer, po = out.mutablePointer()
    let chunk = g.imagesPerChunk
    let needsCols = !(g.isPointwise && chunk == 1)
    var cols = needsCols ? Tensor(uninitializedShape: [g.patchSize * chunk * g.outPixels]) : nil
    var product = chunk > 1 ? Tensor(uninitializedShape: [g.outChannels * chunk * g.outPixels]) : nil
    let pcols = cols?.mutablePointer(), pproduct = product?.mutablePointer()
    for images in g.chunks {
        let columns = images.count * g.outPixels
        let a: UnsafePointer<Float>
        if let pcols {
            im2col(px, g, images: images, into: pcols)
            a = UnsafePointer(pcols)
        } else {
            a = px + images.lowerBound * g.inChannels * g.inPixels
        }
        let outChunk = po + images.lowerBound * g.outChannels * g.outPixels
        if let pproduct {
            sgemm(m: g.outChannels, n: columns, k: g.patchSize, a: pw, lda: g.patchSize,
                  b: a, ldb: columns, c: pproduct, ldc: columns)
            transposeChunk(pproduct, outChunk, images: images.count, channels: g.outChannels,
                           pixels: g.outPixels, toGemm: false, bias: bias?.pointer)
        } else {
            sgemm(m: g.outChannels, n: columns, k: g.patchSize, a: pw, lda: g.patchSize,
                  b: a, ldb: columns, c: outChunk, ldc: columns)
            if let bias { addChannelBias(outChunk, bias.pointer, channels: g.outChannels, pixels: g.outPixels) }
        }
    }
    withExtendedLifetime((cols, product)) {}
    return out
}

/// Adds bias[c] to every pixel of channel c of one image laid out (C, pixels).
func addChannelBias(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, channels: Int, pixels: Int) {
    parallelChunks(channels, grain: max(1, 8192 / pixels)) { range in
        for c in range {
            let row = y + c * pixels, b = bias[c]
            for p in 0..<pixels { row[p] += b }
        }
    }
}

/// Backward convolution. Given gradOut (N, Cout, Ho, Wo), returns the gradients of x (nil when
/// not wanted), weight and bias.
func conv2dBackward(_ x: Tensor, weight: Tensor, gradOut: Tensor, stride: Int, padding: Int,
                    needInputGradient: Bool) -> (x: Tensor?, weight: Tensor, bias: Tensor) {
    let g = Conv2dGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
    precondition(gradOut.shape == g.outputShape, "conv2d backward: gradient shape \(gradOut.shape)")
    var gx = needInputGradient ? Tensor.zeros(x.shape) : nil
    var gw = Tensor.zeros(weight.shape)
    var gb = Tensor.zeros([g.outChannels])
    let px = x.pointer, pw = weight.pointer, pgo = gradOut.pointer
    let pgx = gx?.mutablePointer(), pgw = gw.mutablePointer(), pgb = gb.mutablePointer()
    let chunk = g.imagesPerChunk
    let directCols = g.isPointwise && chunk == 1
    var cols = directCols ? nil : Tensor(uninitializedShape: [g.patchSize * chunk * g.outPixels])
    var gathered = chunk > 1 ? Tensor(uninitializedShape: [g.outChannels * chunk * g.outPixels]) : nil
    let pcols = cols?.mutablePointer(), pgathered = gathered?.mutablePointer()
    for images in g.chunks {
        let columns = images.count * g.outPixels
        // The chunk's output gradient as a (Cout, columns) matrix.
        let gradChunk = pgo + images.lowerBound * g.outChannels * g.outPixels
        let gy: UnsafePointer<Float>
        if let pgathered {
            transposeChunk(gradChunk, pgathered, images: images.count, channels: g.outChannels,
                           pixels: g.outPixels, toGemm: true)
            gy = UnsafePointer(pgathered)
        } else {
            gy = gradChunk
        }
        let inputChunk = px + images.lowerBound * g.inChannels * g.inPixels
        let colsRead: UnsafePointer<Float>
        if let pcols {
            im2col(px, g, images: images, into: pcols)
            colsRead = UnsafePointer(pcols)
        } else {
            colsRead = inputChunk
        }
        // dW += gy (Cout x columns) * cols^T (columns x patch)
        sgemm(transB: true, m: g.outChannels, n: g.patchSize, k: columns, a: gy, lda: columns,
              b: colsRead, ldb: columns, beta: 1, c: pgw, ldc: g.patchSize)
        for c in 0..<g.outChannels {
            let row = gy + c * columns
            var total: Float = 0
            for i in 0..<columns { total += row[i] }
            pgb[c] += total
        }
        guard let pgx else { continue }
        // dcols = W^T (patch x Cout) * gy (Cout x columns), then back onto the image gradient.
        if let pcols {
            sgemm(transA: true, m: g.patchSize, n: columns, k: g.outChannels, a: pw, lda: g.patchSize,
                  b: gy, ldb: columns, c: pcols, ldc: columns)
            col2im(pcols, g, images: images, into: pgx)
        } else {
            sgemm(transA: true, m: g.patchSize, n: columns, k: g.outChannels, a: pw, lda: g.patchSize,
                  b: gy, ldb: columns, c: pgx + images.lowerBound * g.inChannels * g.inPixels, ldc: columns)
        }
    }
    withExtendedLifetime((cols, gathered)) {}
    return (gx, gw, gb)
}
