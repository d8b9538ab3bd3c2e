// Speed of evaluation: the whole metric set on N x N features, feature extraction images/s,
// and the prdc README sanity check. Run a release build:
//   swift run -c release metrics-benchmark [--count 10000] [--dimension 128] [--prdc]
// The metric set is FID (statistics + distance), KID (100 subsets of 1000), precision/recall
// (k 3) and density/coverage (k 5) on standard normal real features and fake ones shifted by 0.1.
// --prdc adds the prdc README check: 10,000 + 10,000 samples of N(0, I) in 1000 dimensions,
// k = 5, strict comparisons, which the README reports as P 0.4772, R 0.4705, D 1.0555, C 0.9735.
import Dispatch
import Evaluation
import Foundation
import NN

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    arguments.firstIndex(of: name).flatMap { Int(arguments[$0 + 1]) } ?? fallback
}
let count = option("--count", 10_000), dimension = option("--dimension", 128)

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func normal(seed: UInt64, count: Int, dimension: Int, shift: Double = 0) -> FeatureMatrix {
    FeatureMatrix(count: count, dimension: dimension,
                  values: Tensor.randn([count, dimension], seed: seed).scalars.map { Double($0) + shift })
}

let real = normal(seed: 1, count: count, dimension: dimension)
let fake = normal(seed: 2, count: count, dimension: dimension, shift: 0.1)
var parts: [String] = []
let total = try seconds {
    var statistics: (FeatureStatistics, FeatureStatistics)?
    parts.append(String(format: "statistics %.2f s", try seconds { statistics = (try FeatureStatistics(real), try FeatureStatistics(fake)) }))
    parts.append(String(format: "FID %.3f s", try seconds { _ = try FrechetDistance.compute(statistics!.0, statistics!.1) }))
    parts.append(String(format: "KID %.2f s", try seconds { _ = try KernelDistance.compute(real: real, fake: fake) }))
    parts.append(String(format: "P/R + D/C %.2f s", try seconds { _ = try ManifoldMetrics.compute(real: real, fake: fake) }))
}
print(String(format: "metric set on %d x %d features of %d dimensions: %.2f s (", count, count, dimension, total)
      + parts.joined(separator: ", ") + ")")

// Feature extraction: the evaluator architecture (random weights run at the same speed) on
// Fashion-MNIST-sized images, in batches of 250.
let network = RandomNetworkExtractor(resolution: 28, channels: 1)
let images = Tensor.rand([250, 1, 28, 28], seed: 3) * 2 - 1
_ = network.features(images)
let times = (0..<5).map { _ in seconds { _ = network.features(images) } }.sorted()
print(String(format: "feature extraction (evaluator CNN, 1x28x28, batch 250): %.0f images/s (median of 5)", 250 / times[2]))

if arguments.contains("--prdc") {
    let a = normal(seed: 11, count: 10_000, dimension: 1000), b = normal(seed: 12, count: 10_000, dimension: 1000)
    var scores: ManifoldMetrics.Scores?
    let time = try seconds {
        scores = try ManifoldMetrics.compute(real: a, fake: b, precisionRecallK: 5, boundary: .open, densityCoverageK: 5)
    }
    print(String(format: "prdc check (10,000 + 10,000 of N(0, I) in 1000 dims, k 5, strict): P %.4f R %.4f D %.4f C %.4f in %.1f s",
                 scores!.precision, scores!.recall, scores!.density, scores!.coverage, time)
          + " (prdc README: P 0.4772 R 0.4705 D 1.0555 C 0.9735)")
}
