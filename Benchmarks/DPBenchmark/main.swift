// DP-SGD training speed: a differentially private step (Poisson batch, one backward pass per
// image, per-image clipping, noise) against a plain step of the same model, beside Opacus
// against plain PyTorch (Benchmarks/pytorch_dp_reference.py). The tiny preset as shipped, 28x28
// gray and 32x32 RGB, expected batch 64; noise multiplier 1, clip norm 1, one noise draw.
// Run it with Benchmarks/run_dp_benchmark.sh, or:
//   swift run -c release dp-benchmark [--pytorch FILE.json] [--batch 64] [--repeats 5]
import Diffusion
import Foundation
import Imaging
import NN

let arguments = CommandLine.arguments
func option(_ name: String) -> String? { arguments.firstIndex(of: name).map { arguments[$0 + 1] } }
let batch = option("--batch").flatMap(Int.init) ?? 64
let repeats = option("--repeats").flatMap(Int.init) ?? 5

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A trainer of the tiny preset on 4 x batch random images (sample rate 1/4 for DP).
func makeTrainer(resolution: Int, channels: Int, private: Bool) throws -> Trainer {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dp-benchmark-\(getpid())")
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let size = resolution * resolution * channels
    for i in 0..<(4 * batch) {
        let pixels = Tensor.rand([size], seed: UInt64(i)).scalars.map { UInt8($0 * 255) }
        try PNG.write(Image(width: resolution, height: resolution, channels: channels, pixels: pixels),
                      to: folder.appendingPathComponent(String(format: "%04d.png", i)))
    }
    let dataset = try ImageDataset.load(folder: folder, resolution: resolution, channels: channels)
    var options = TrainingOptions(data: folder.path, resolution: resolution, channels: channels, steps: 1_000_000)
    (options.batchSize, options.warmupSteps) = (batch, 0)
    if `private` { options.privacy = PrivacyOptions(maxGradNorm: 1, noiseMultiplier: 1, delta: 1e-5, noiseSeed: 1) }
    let unet = try UNet2DModel(config: UNetPreset.tiny.config(resolution: resolution, channels: channels))
    return try Trainer(denoiser: unet, dataset: dataset, options: options)
}

/// Images per second of training steps: the median over `repeats` steps (after one warm-up) of
/// each step's images (a DP step's Poisson sample) over its time.
func imagesPerSecond(_ trainer: Trainer) throws -> Double {
    try trainer.trainStep()
    return median(try (0..<repeats).map { _ in
        let images = trainer.options.privacy == nil ? batch : trainer.poissonBatch(step: trainer.step).count
        let start = DispatchTime.now().uptimeNanoseconds
        try trainer.trainStep()
        return Double(images) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    })
}

var reference: [String: [String: Any]] = [:]
if let path = option("--pytorch") {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
    for case let entry as [String: Any] in object?["cases"] as? [Any] ?? [] { reference[entry["case"] as? String ?? ""] = entry }
}
let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
let cpu = info.split(separator: "\n").first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":")[1]) } ?? "?"
print("DP-SGD benchmark, expected batch \(batch), \(ProcessInfo.processInfo.activeProcessorCount) cores of\(cpu); medians of \(repeats) steps")
print("| case | plain img/s | DP img/s | slowdown | PyTorch plain img/s | Opacus img/s | Opacus slowdown |")
print("|---|---|---|---|---|---|---|")
for (resolution, channels) in [(28, 1), (32, 3)] {
    let name = "tiny/preset \(resolution)x\(resolution)x\(channels)"
    let plain = try imagesPerSecond(try makeTrainer(resolution: resolution, channels: channels, private: false))
    let dp = try imagesPerSecond(try makeTrainer(resolution: resolution, channels: channels, private: true))
    let ref = reference[name] ?? [:]
    func number(_ key: String, _ format: String) -> String { (ref[key] as? NSNumber).map { String(format: format, $0.doubleValue) } ?? "-" }
    print(String(format: "| %@ | %.1f | %.1f | %.2fx | %@ | %@ | %@ |", name, plain, dp, plain / dp,
                 number("plain_images_per_s", "%.1f"), number("dp_images_per_s", "%.1f"), number("slowdown", "%.2fx")))
}
