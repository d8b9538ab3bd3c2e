// Decoding and preprocessing speed of an image folder.
//
// Times ImageDataset.load (find PNGs, decode, convert, fit to the resolution, keep as 8-bit
// planes) over a folder and prints images per second, median of the runs. Pair it with
// Benchmarks/pillow_decode.py for the same work in Python with Pillow. Run in release mode:
//   swift run -c release dataset-benchmark FOLDER [--resolution 28] [--channels 1] [--repeats 5]
import Foundation
import Imaging

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    arguments.firstIndex(of: name).flatMap { Int(arguments[$0 + 1]) } ?? fallback
}
guard arguments.count > 1, !arguments[1].hasPrefix("--") else {
    print("usage: dataset-benchmark FOLDER [--resolution N] [--channels 1|3] [--repeats N]")
    exit(2)
}
let folder = URL(fileURLWithPath: arguments[1])
let (resolution, channels, repeats) = (option("--resolution", 28), option("--channels", 1), option("--repeats", 5))

var rates: [Double] = []
var count = 0
for _ in 0..<repeats {
    let start = DispatchTime.now().uptimeNanoseconds
    do {
        count = try ImageDataset.load(folder: folder, resolution: resolution, channels: channels).count
    } catch {
        print("error: \(error)")
        exit(1)
    }
    rates.append(Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
}
rates.sort()
let scanStart = DispatchTime.now().uptimeNanoseconds
_ = try? ImageFolder.scan(folder)
let scanSeconds = Double(DispatchTime.now().uptimeNanoseconds - scanStart) / 1e9
print(String(format: "diffuse: %d images, %.0f images/s (median of %d; min %.0f, max %.0f), %d cores; listing the folder alone: %.2f s",
             count, rates[rates.count / 2], repeats, rates[0], rates[rates.count - 1],
             ProcessInfo.processInfo.activeProcessorCount, scanSeconds))
