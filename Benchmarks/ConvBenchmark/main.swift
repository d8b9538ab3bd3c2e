// Convolution speed against the SGEMM it is lowered to, and Winograd against im2col.
//
// For the U-Net's typical convolutions (batch 64), times NN's im2col conv2d forward and backward
// and raw cblas_sgemm on the same lowered GEMM shapes (one per image), and prints GFLOP/s and the ratio; then,
// for the U-Net's 3x3 convolutions, times the Winograd path against the im2col path, the two
// interleaved in one run; then the fused attention kernel on the U-Net's attention shapes.
// Run in release mode:
//   swift run -c release conv-benchmark [--repeats N] [--only sgemm|winograd|attention]
// (DIFFUSE_SIMD=baseline|avx2|avx512 runs NN's C kernels at a lower instruction-set level.)
import CBLAS
import Foundation
import NN

struct ConvCase {
    let channels: Int, size: Int, kernel: Int
    let batch = 64
    var padding: Int { kernel / 2 }
    var label: String { "\(size)x\(size)x\(channels)->\(channels) \(kernel)x\(kernel)" }
    var patch: Int { channels * kernel * kernel }
    var pixels: Int { size * size }
    /// One GEMM per image, as conv2d runs them (a GEMM never spans two images).
    var columns: Int { pixels }
    var chunks: Int { batch }
    /// Multiply-adds of one forward pass, counted as 2 flops each.
    var forwardFlops: Double { 2 * Double(batch * channels * pixels * patch) }
}

/// The median of `repeats` timings of `body`, after one warm-up run.
func medianSeconds(_ repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

/// Plain row-major SGEMM, C (m x n) = op(A) op(B), with OpenBLAS using every core (its best
/// rate; NN itself runs BLAS single-threaded and splits the work across cores).
func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
          _ a: [Float], _ b: [Float], _ c: inout [Float]) {
    openblas_set_num_threads(Int32(ProcessInfo.processInfo.activeProcessorCount))
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), 1, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                0, &c, Int32(n))
}

/// The value after `--name` on the command line.
func option(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).map { CommandLine.arguments[$0 + 1] }
}

let repeats = option("--repeats").flatMap { Int($0) } ?? 7
let only = option("--only")
let cases = [ConvCase(channels: 64, size: 32, kernel: 3), ConvCase(channels: 128, size: 16, kernel: 3),
             ConvCase(channels: 128, size: 8, kernel: 3), ConvCase(channels: 64, size: 32, kernel: 1),
             ConvCase(channels: 128, size: 16, kernel: 1), ConvCase(channels: 128, size: 8, kernel: 1)]

print("OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"), \(ProcessInfo.processInfo.activeProcessorCount) cores")

/// Seconds of one backward pass of `layer` (input, weight and bias gradients), the forward
/// pass run untimed before it.
func backwardSeconds(_ layer: Conv2d, _ input: Tensor, _ gradOut: Tensor) -> Double {
    let tape = Tape()
    let out = layer(tape.input(input, requiresGradient: true))
    let start = DispatchTime.now().uptimeNanoseconds
    tape.backward(from: out, gradient: gradOut)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    for p in layer.parameters { p.gradient = nil }
    return seconds
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

if only == nil || only == "sgemm" {
    Conv2dAlgorithm.$current.withValue(.im2col) {
        print("\nconv2d (im2col) vs cblas_sgemm at the lowered GEMM size, batch 64, median of \(repeats) runs")
        print("| shape | GEMM (M, N, K) x chunks | fwd GFLOP/s | SGEMM fwd | fwd ratio | bwd GFLOP/s | SGEMM bwd | bwd ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for c in cases {
            var seeds = SeedSequence(seed: 1)
            let layer = Conv2d(c.channels, c.channels, kernelSize: c.kernel, padding: c.padding, seeds: &seeds)
            let input = Tensor.randn([c.batch, c.channels, c.size, c.size], seed: 2)
            let gradOut = Tensor.randn([c.batch, c.channels, c.size, c.size], seed: 3)

            let forward = medianSeconds(repeats) { _ = layer(Variable(input)) }
            // Backward alone: the forward runs outside the timed region.
            let backward = median((0...repeats).map { _ in backwardSeconds(layer, input, gradOut) }.dropFirst().map { $0 })

            // The same GEMMs on their own: forward W (M x K) cols (K x N); backward dW = gy cols^T and
            // dcols = W^T gy.
            let (m, n, k) = (c.channels, c.columns, c.patch)
            let w = [Float](repeating: 0.01, count: m * k), cols = [Float](repeating: 0.5, count: k * n)
            let gy = [Float](repeating: 0.1, count: m * n)
            var out = [Float](repeating: 0, count: m * n), dw = [Float](repeating: 0, count: m * k)
            var dcols = [Float](repeating: 0, count: k * n)
            let gemmForward = medianSeconds(repeats) { for _ in 0..<c.chunks { gemm(false, false, m, n, k, w, cols, &out) } }
            let gemmBackward = medianSeconds(repeats) {
                for _ in 0..<c.chunks {
                    gemm(false, true, m, k, n, gy, cols, &dw)
                    gemm(true, false, k, n, m, w, gy, &dcols)
                }
            }
            func rate(_ flops: Double, _ seconds: Double) -> String { String(format: "%.0f", flops / seconds / 1e9) }
            let f = c.forwardFlops
            print("| \(c.label) | (\(m), \(n), \(k)) x \(c.chunks) | \(rate(f, forward)) | \(rate(f, gemmForward)) | "
                  + String(format: "%.2f", gemmForward / forward) + " | \(rate(2 * f, backward)) | \(rate(2 * f, gemmBackward)) | "
                  + String(format: "%.2f", gemmBackward / backward) + " |")
        }
    }
}

if only == nil || only == "winograd" {
    // The U-Net's 3x3 convolutions (tiny preset: 32 and 64 channels; small: 64 and 128), and
    // its input convolutions (3 or 1 channels to 32): im2col, Winograd F(2x2, 3x3) and
    // F(4x4, 3x3), interleaved in each round so that they see the same machine.
    let shapes = [(32, 32, 32), (32, 28, 32), (64, 16, 64), (64, 14, 64), (64, 8, 64), (64, 7, 64),
                  (64, 32, 64), (128, 16, 128), (128, 8, 128), (3, 32, 32), (1, 28, 32)]
    let algorithms: [Conv2dAlgorithm] = [.im2col, .winograd2x2, .winograd4x4]
    print("\nconv2d 3x3 stride 1 padding 1, batch 64, median of \(repeats) interleaved rounds; speed-up = im2col time / Winograd time")
    print("| shape | pass | im2col ms | F(2x2) ms | F(4x4) ms | F(2x2) speed-up | F(4x4) speed-up |")
    print("|---|---|---|---|---|---|---|")
    for (inChannels, size, outChannels) in shapes {
        var seeds = SeedSequence(seed: 1)
        let layer = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, seeds: &seeds)
        let input = Tensor.randn([64, inChannels, size, size], seed: 2)
        let gradOut = Tensor.randn([64, outChannels, size, size], seed: 3)
        var forward = [[Double]](repeating: [], count: algorithms.count), backward = forward
        for round in 0...repeats {
            for (index, algorithm) in algorithms.enumerated() {
                let (seconds, backwardTime) = Conv2dAlgorithm.$current.withValue(algorithm) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = layer(Variable(input))
                    return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, backwardSeconds(layer, input, gradOut))
                }
                if round > 0 {  // round 0 warms up
                    forward[index].append(seconds)
                    backward[index].append(backwardTime)
                }
            }
        }
        for (pass, times) in [("forward", forward.map(median)), ("backward", backward.map(median))] {
            func ms(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1e3) }
            print("| \(size)x\(size)x\(inChannels)->\(outChannels) | \(pass) | \(times.map(ms).joined(separator: " | ")) | "
                  + String(format: "%.2f | %.2f |", times[0] / times[1], times[0] / times[2]))
        }
    }
}

if only == nil || only == "attention" {
    // Multi-head attention as the U-Net's blocks run it (batch 64): sampling (an untaped pass,
    // which keeps nothing) and a training pass (forward keeping the log-sum-exp, then backward).
    // GFLOP/s count the two products per pair, 4 L^2 d flops forward and 8 L^2 d backward.
    let shapes = [(256, 64, 8), (196, 64, 8), (64, 64, 8), (49, 64, 8), (256, 128, 16), (64, 128, 16), (64, 64, 1)]
    print("\nattention, batch 64, kernels \(SIMDLevel.native), median of \(repeats)")
    print("| positions L | channels | heads (d) | sampling ms | GFLOP/s | training fwd + bwd ms | GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for (length, channels, heads) in shapes {
        let (q, k, v) = (Tensor.randn([64, length, channels], seed: 4), Tensor.randn([64, length, channels], seed: 5),
                         Tensor.randn([64, length, channels], seed: 6))
        let gradOut = Tensor.randn([64, length, channels], seed: 7)
        let sampling = medianSeconds(repeats) { _ = attention(query: Variable(q), key: Variable(k), value: Variable(v), heads: heads) }
        let training = medianSeconds(repeats) {
            let tape = Tape()
            let query = tape.input(q, requiresGradient: true)
            let out = attention(query: query, key: tape.input(k, requiresGradient: true), value: tape.input(v, requiresGradient: true), heads: heads)
            tape.backward(from: out, gradient: gradOut)
        }
        let flops = 4 * 64 * Double(length * length * channels)
        print("| \(length) | \(channels) | \(heads) (\(channels / heads)) | " + String(format: "%.2f | %.0f | %.2f | %.0f |",
              sampling * 1e3, flops / sampling / 1e9, training * 1e3, 3 * flops / training / 1e9))
    }
}
