import Foundation
import NN
import XCTest
@testable import Evaluation

/// The metric fixtures made by Tests/Fixtures/make_metrics_fixtures.py.
enum MetricsFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/evaluation")

    /// metrics_<name>.npy as a feature matrix.
    static func features(_ name: String) throws -> FeatureMatrix {
        try FeatureMatrix(Npy.read(from: folder.appendingPathComponent("metrics_\(name).npy")))
    }

    /// metrics_<name>.npy as numbers.
    static func numbers(_ name: String) throws -> [Double] {
        try Npy.read(from: folder.appendingPathComponent("metrics_\(name).npy")).doubles
    }

    /// metrics_<name>.npy (2-D int64) as rows of indices.
    static func indexRows(_ name: String) throws -> [[Int]] {
        let array = try Npy.read(from: folder.appendingPathComponent("metrics_\(name).npy"))
        let values = array.doubles.map { Int($0) }
        return (0..<array.shape[0]).map { Array(values[$0 * array.shape[1] ..< ($0 + 1) * array.shape[1]]) }
    }

    /// metrics_expected.json.
    static let expected: [String: Any] = {
        let data = try! Data(contentsOf: folder.appendingPathComponent("metrics_expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    /// The number at `path` (keys separated by dots) in metrics_expected.json.
    static func number(_ path: String) -> Double {
        var node: Any = expected
        for key in path.split(separator: ".") { node = (node as! [String: Any])[String(key)]! }
        return (node as! NSNumber).doubleValue
    }

    static func array(_ path: String) -> [Double] {
        var node: Any = expected
        for key in path.split(separator: ".") { node = (node as! [String: Any])[String(key)]! }
        return (node as! [NSNumber]).map(\.doubleValue)
    }

    /// The fixture script's "gauss" features: value e of `seed` is the Irwin-Hall sum of 12
    /// uniforms u(12 e + t), u(w) = (word w % 4 of Philox block w / 4 + 0.5) / 2^32, minus 6.
    static func philoxFeatures(seed: UInt64, count: Int, dimension: Int) -> FeatureMatrix {
        let generator = Philox(seed: seed)
        var values = [Double](repeating: 0, count: count * dimension)
        var words = SIMD4<UInt32>()
        for e in 0..<values.count {
            var sum = 0.0
            for t in 0..<12 {
                let word = 12 * e + t  // 12 words a value: blocks never straddle two values' starts
                if word % 4 == 0 { words = generator.block(UInt64(word / 4)) }
                sum += (Double(words[word % 4]) + 0.5) / 4_294_967_296
            }
            values[e] = sum - 6
        }
        return FeatureMatrix(count: count, dimension: dimension, values: values)
    }
}

/// |actual - expected| <= relative * |expected| + absolute.
func assertMetricClose(_ actual: Double, _ expected: Double, relative: Double = 0, absolute: Double = 0,
                       _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssert(abs(actual - expected) <= relative * abs(expected) + absolute,
              "\(message) \(actual) vs \(expected) (difference \(actual - expected))", file: file, line: line)
}

/// A fraction of `total` that must equal the reference's count exactly (torch-fidelity gives
/// its fractions rounded to float32).
func assertSameCount(_ actual: Double, _ expected: Double, of total: Int, _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual((actual * Double(total)).rounded(), (expected * Double(total)).rounded(),
                   "\(message) \(actual) vs \(expected) of \(total)", file: file, line: line)
    XCTAssertEqual(actual * Double(total), (actual * Double(total)).rounded(), accuracy: 1e-9,
                   "\(message): not a count of \(total)", file: file, line: line)
}
