// U-Net training and sampling speed and memory, beside PyTorch + diffusers.
//
// For the tiny and small presets in two layouts (`preset`: as shipped; `heads8`: diffusers'
// defaults for attention and normalization, attention at every level but the first in heads of
// 8 channels, 8 norm groups) at 32x32 RGB and 28x28 gray, batch 64: training images/s (a
// full Trainer step: forward, loss, backward, clipping, AdamW, EMA), forward-pass time, DDIM
// 50-step sampling images/s and peak memory of training (each case in its own process). Given
// the JSON written by Benchmarks/pytorch_reference.py, it prints PyTorch's figures beside ours,
// the ratios, and GFLOP/s from PyTorch's FLOP count of the same model. Run it with
// Benchmarks/run_unet_benchmark.sh, or:
//   swift run -c release unet-benchmark [--pytorch FILE.json] [--presets tiny,small]
//       [--layouts preset,heads8] [--cases 32x3,28x1] [--batch 64] [--repeats 5] [--ddim-repeats 2] [--skip-ddim]
//       [--conv automatic|im2col]   (im2col: no Winograd convolutions, for comparison)
import Diffusion
import Foundation
import Imaging
import NN

/// How a case arranges the preset's levels (pytorch_reference.py builds the same two).
enum Layout: String {
    /// The preset as shipped: attention at the lowest level and in the mid block, 32 groups.
    case preset
    /// diffusers' defaults: attention at every level but the first, heads of 8 channels, 8 groups.
    case heads8
}

struct Case: Hashable {
    let preset: UNetPreset
    let layout: Layout
    let resolution: Int
    let channels: Int
    var name: String { "\(preset.rawValue)/\(layout.rawValue) \(resolution)x\(resolution)x\(channels)" }

    var config: UNetConfig {
        var config = preset.config(resolution: resolution, channels: channels)
        if layout == .heads8 {
            config.downBlockTypes = [.plain, .attention, .attention]
            config.upBlockTypes = [.attention, .attention, .plain]
            config.attentionHeadDim = 8
            config.normNumGroups = 8
        }
        return config
    }
}

struct Measurement {
    var parameters = 0
    var trainImagesPerSecond = 0.0
    var forwardSeconds = 0.0
    var ddimImagesPerSecond: Double?
    var peakMemoryMB: Double?
    var samplingPeakMemoryMB: Double?
}

let arguments = CommandLine.arguments
func option(_ name: String) -> String? { arguments.firstIndex(of: name).map { arguments[$0 + 1] } }
let batch = option("--batch").flatMap(Int.init) ?? 64
let repeats = option("--repeats").flatMap(Int.init) ?? 5
let ddimRepeats = option("--ddim-repeats").flatMap(Int.init) ?? 2
let convolution = option("--conv") ?? "automatic"
let algorithm: Conv2dAlgorithm = convolution == "im2col" ? .im2col : .automatic
let presets = (option("--presets") ?? "tiny,small").split(separator: ",").compactMap { UNetPreset(rawValue: String($0)) }
let layouts = (option("--layouts") ?? "preset,heads8").split(separator: ",").compactMap { Layout(rawValue: String($0)) }
let shapes = (option("--cases") ?? "32x3,28x1").split(separator: ",").map { $0.split(separator: "x").compactMap { Int($0) } }
let cases = presets.flatMap { preset in
    layouts.flatMap { layout in
        shapes.map { Case(preset: preset, layout: layout, resolution: $0[0], channels: $0[1]) }
    }
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// A folder of `count` random PNGs to train on.
func syntheticFolder(_ c: Case, count: Int) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unet-benchmark-\(c.resolution)x\(c.channels)-\(getpid())")
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let size = c.resolution * c.resolution * c.channels
    for i in 0..<count {
        let pixels = Tensor.rand([size], seed: UInt64(i)).scalars.map { UInt8($0 * 255) }
        try PNG.write(Image(width: c.resolution, height: c.resolution, channels: c.channels, pixels: pixels),
                      to: folder.appendingPathComponent(String(format: "%04d.png", i)))
    }
    return folder
}

func makeTrainer(_ c: Case) throws -> Trainer {
    let folder = try syntheticFolder(c, count: batch)
    defer { try? FileManager.default.removeItem(at: folder) }
    let dataset = try ImageDataset.load(folder: folder, resolution: c.resolution, channels: c.channels)
    var options = TrainingOptions(data: folder.path, resolution: c.resolution, channels: c.channels, steps: 1_000_000)
    options.batchSize = batch
    options.warmupSteps = 0
    let unet = try UNet2DModel(config: c.config)
    return try Trainer(denoiser: unet, dataset: dataset, options: options)
}

/// Peak resident memory of this process so far, in MB: VmHWM from /proc/self/status (Linux
/// hands a child its parent's ru_maxrss across exec, which would mix the cases up).
func peakMemoryMB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan) / 1024
}

func measure(_ c: Case) throws -> Measurement {
    var m = Measurement()
    let trainer = try makeTrainer(c)
    m.parameters = trainer.denoiser.parameters.reduce(0) { $0 + $1.value.count }
    try trainer.trainStep()
    m.trainImagesPerSecond = Double(batch) / median(try (0..<repeats).map { _ in try seconds { try trainer.trainStep() } })

    let x = Tensor.randn([batch, c.channels, c.resolution, c.resolution], seed: 1)
    let timesteps = [Float](repeating: 500, count: batch)
    _ = trainer.denoiser(Variable(x), timesteps: timesteps, conditioning: Conditioning())
    m.forwardSeconds = median((0..<repeats).map { _ in seconds { _ = trainer.denoiser(Variable(x), timesteps: timesteps, conditioning: Conditioning()) } })

    if !arguments.contains("--skip-ddim") {
        let config = trainer.schedulerConfig
        let pipeline = SamplingPipeline(denoiser: trainer.denoiser) { try SchedulerKind.ddim.make(config: config) }
        let times = try (0..<ddimRepeats).map { _ in try seconds { _ = try pipeline.generate(0..<batch, steps: 50, seed: 0) } }
        m.ddimImagesPerSecond = Double(batch) / median(times)
    }
    return m
}

/// What a memory child process runs: three training steps, or three DDIM steps of a batch.
enum MemoryWork: String { case train, sample }

/// Peak memory of training or sampling alone: this program re-run on one case, doing only that.
func peakMemory(_ c: Case, of work: MemoryWork) throws -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    process.arguments = ["--memory-case", "\(c.preset.rawValue):\(c.layout.rawValue):\(c.resolution)x\(c.channels)", "--batch", String(batch),
                         "--conv", convolution, "--memory-of", work.rawValue]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return Double(output.trimmingCharacters(in: .whitespacesAndNewlines))
}

// A child process measuring one case's training or sampling memory prints only the peak.
if let spec = option("--memory-case") {
    let parts = spec.split(separator: ":")
    let shape = parts[2].split(separator: "x").compactMap { Int($0) }
    let trainer = try makeTrainer(Case(preset: UNetPreset(rawValue: String(parts[0]))!, layout: Layout(rawValue: String(parts[1]))!,
                                       resolution: shape[0], channels: shape[1]))
    try Conv2dAlgorithm.$current.withValue(algorithm) {
        if option("--memory-of") == MemoryWork.sample.rawValue {
            let config = trainer.schedulerConfig
            let pipeline = SamplingPipeline(denoiser: trainer.denoiser) { try SchedulerKind.ddim.make(config: config) }
            _ = try pipeline.generate(0..<batch, steps: 3, seed: 0)
        } else {
            for _ in 0..<3 { try trainer.trainStep() }
        }
    }
    print(peakMemoryMB())
    exit(0)
}

/// PyTorch's figures by case name, from pytorch_reference.py's JSON.
func pytorchResults() throws -> [String: [String: Any]] {
    guard let path = option("--pytorch") else { return [:] }
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
    var results: [String: [String: Any]] = [:]
    for entry in json?["cases"] as? [[String: Any]] ?? [] {
        guard let preset = entry["preset"] as? String, let r = entry["resolution"] as? Int, let ch = entry["channels"] as? Int else { continue }
        let layout = entry["layout"] as? String ?? Layout.preset.rawValue
        results["\(preset)/\(layout) \(r)x\(r)x\(ch)"] = entry
    }
    return results
}

let reference = try pytorchResults()
/// The CPU's name, family and model, from /proc/cpuinfo.
func cpuDescription() -> String {
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    func field(_ key: String) -> String {
        let line = info.split(separator: "\n").first { $0.hasPrefix(key) && $0.contains(":") }
        return line.map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) } ?? "?"
    }
    return "\(field("model name")) (family \(field("cpu family")), model \(field("model\t")))"
}

print("U-Net benchmark, batch \(batch), \(ProcessInfo.processInfo.activeProcessorCount) cores of \(cpuDescription()), kernels \(SIMDLevel.native), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"); medians of \(repeats) (DDIM: \(ddimRepeats))")
print("| case | params | train img/s (PyTorch, ratio) | forward s (PyTorch, ratio) | DDIM-50 img/s (PyTorch, ratio) | train peak MB (PyTorch, ratio) | sampling peak MB (PyTorch, ratio) | train GFLOP/s (PyTorch) |")
print("|---|---|---|---|---|---|---|---|")
func cell(_ ours: Double?, _ theirs: Any?, higherIsBetter: Bool, format: String) -> String {
    guard let ours else { return "-" }
    let own = String(format: format, ours)
    guard let theirs = (theirs as? NSNumber)?.doubleValue, theirs > 0 else { return own }
    let ratio = higherIsBetter ? ours / theirs : theirs / ours
    return "\(own) (\(String(format: format, theirs)), \(String(format: "%.2f", ratio))x)"
}
for c in cases {
    var m = try Conv2dAlgorithm.$current.withValue(algorithm) { try measure(c) }
    m.peakMemoryMB = try peakMemory(c, of: .train)
    m.samplingPeakMemoryMB = try peakMemory(c, of: .sample)
    let ref = reference[c.name] ?? [:]
    // GFLOP/s from PyTorch's FLOP count of the same model and batch.
    let stepGFLOP = (ref["train_step_gflop"] as? NSNumber)?.doubleValue
    let ours = stepGFLOP.map { String(format: "%.0f", $0 * m.trainImagesPerSecond / Double(batch)) } ?? "-"
    let theirs = (ref["train_gflops_per_s"] as? NSNumber).map { String(format: "%.0f", $0.doubleValue) } ?? "-"
    let paramNote = (ref["parameters"] as? Int).map { $0 == m.parameters ? "" : " (PyTorch \($0)!)" } ?? ""
    print("| \(c.name) | \(m.parameters)\(paramNote) | \(cell(m.trainImagesPerSecond, ref["train_images_per_s"], higherIsBetter: true, format: "%.1f")) | "
          + "\(cell(m.forwardSeconds, ref["forward_s"], higherIsBetter: false, format: "%.3f")) | "
          + "\(cell(m.ddimImagesPerSecond, ref["ddim50_images_per_s"], higherIsBetter: true, format: "%.2f")) | "
          + "\(cell(m.peakMemoryMB, ref["peak_memory_mb"], higherIsBetter: false, format: "%.0f")) | "
          + "\(cell(m.samplingPeakMemoryMB, ref["sampling_peak_memory_mb"], higherIsBetter: false, format: "%.0f")) | \(ours) (\(theirs)) |")
}
