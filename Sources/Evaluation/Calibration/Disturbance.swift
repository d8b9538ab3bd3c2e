import Foundation
import NN

/// A way to damage real images by a known amount, after Heusel et al. 2017 (appendix, Fig. A1):
/// a trustworthy evaluator scores the damaged set steadily worse as the damage grows. Each kind
/// has four levels, from barely visible to plain.
public enum Disturbance: String, CaseIterable, Codable, Sendable {
    /// Gaussian noise of standard deviation `level` (in 8-bit levels) on every value.
    case noise
    /// Gaussian blur of standard deviation `level` pixels.
    case blur
    /// `level` black rectangles, each a quarter of the image's side, at random places.
    case rectangles
    /// A fraction `level` of the values set to 0 or 255 (half each).
    case saltAndPepper = "salt-and-pepper"
    /// Black lifted to `level` (v -> level + v (255 - level) / 255): the gray background of an
    /// undertrained model, white unchanged.
    case floorShift = "floor-shift"
    /// A fraction `level` of the images replaced by images of a class the real sets leave out.
    case otherClass = "other-class"

    /// The four levels, weakest first.
    public var levels: [Double] {
        switch self {
        case .noise: return [4, 8, 16, 32]
        case .blur: return [0.5, 1, 1.5, 2]
        case .rectangles: return [1, 2, 3, 4]
        case .saltAndPepper: return [0.01, 0.02, 0.05, 0.1]
        case .floorShift: return [2, 4, 8, 16]
        case .otherClass: return [0.05, 0.1, 0.25, 0.5]
        }
    }

    /// A level as a reader would say it ("sd 8", "sigma 1.5 px", "10%").
    public func describe(_ level: Double) -> String {
        func trimmed(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
        switch self {
        case .noise: return "sd \(trimmed(level))"
        case .blur: return "sigma \(trimmed(level)) px"
        case .rectangles: return level == 1 ? "1 rectangle" : "\(trimmed(level)) rectangles"
        case .saltAndPepper, .otherClass: return "\(trimmed(level * 100))%"
        case .floorShift: return "+\(trimmed(level))"
        }
    }

    /// `set` disturbed at `level`, the same for the same seed. Not for `.otherClass`, which
    /// needs the images of the other class (`mixed(_:with:fraction:)`).
    public func apply(to set: PixelSet, level: Double, seed: UInt64) -> PixelSet {
        var out = set
        switch self {
        case .noise:
            var noise = [Float](repeating: 0, count: set.pixels.count)
            noise.withUnsafeMutableBufferPointer { Philox(seed: seed).fillNormal($0) }
            for i in out.pixels.indices { out.pixels[i] = Self.level(Float(set.pixels[i]) + Float(level) * noise[i]) }
        case .blur:
            out = GaussianBlur(sigma: level).apply(to: set)
        case .rectangles:
            let side = max(1, set.height / 4), across = max(1, set.width / 4)
            let generator = Philox(seed: seed)
            for image in 0..<set.count {
                for r in 0..<Int(level) {
                    let words = generator.block(UInt64(image * 16 + r))
                    let top = Int(words[0] % UInt32(set.height - side + 1)), left = Int(words[1] % UInt32(set.width - across + 1))
                    for c in 0..<set.channels {
                        let plane = (image * set.channels + c) * set.area
                        for y in top..<(top + side) { for x in left..<(left + across) { out.pixels[plane + y * set.width + x] = 0 } }
                    }
                }
            }
        case .saltAndPepper:
            var draws = [Float](repeating: 0, count: set.pixels.count)
            draws.withUnsafeMutableBufferPointer { Philox(seed: seed).fillUniform($0) }
            let half = Float(level) / 2
            for i in out.pixels.indices where draws[i] < Float(level) { out.pixels[i] = draws[i] < half ? 0 : 255 }
        case .floorShift:
            let scale = (255 - Float(level)) / 255
            for i in out.pixels.indices { out.pixels[i] = Self.level(Float(level) + Float(set.pixels[i]) * scale) }
        case .otherClass:
            preconditionFailure("other-class mixing needs the other class's images: use mixed(_:with:fraction:)")
        }
        return out
    }

    /// `set` with its first round(fraction x count) images replaced by the first images of `other`
    /// (as many as `other` holds).
    public static func mixed(_ set: PixelSet, with other: PixelSet, fraction: Double) -> PixelSet {
        let replaced = min(other.count, Int((fraction * Double(set.count)).rounded()))
        var out = set
        out.pixels.replaceSubrange(0..<(replaced * set.imageSize), with: other.pixels[0..<(replaced * set.imageSize)])
        return out
    }

    /// A value rounded to the nearest 8-bit level, clamped to 0...255.
    static func level(_ value: Float) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
}

/// A separable Gaussian blur: a kernel of radius ceil(3 sigma) normalized to sum 1, edges
/// reflected (as torchvision's gaussian_blur pads), the result rounded to 8 bits once.
struct GaussianBlur {
    let taps: [Float]

    init(sigma: Double) {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        let weights = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = weights.reduce(0, +)
        taps = weights.map { Float($0 / total) }
    }

    func apply(to set: PixelSet) -> PixelSet {
        var out = set
        let (height, width, radius) = (set.height, set.width, taps.count / 2)
        /// Index `i` reflected into 0 ..< n (no edge repeated), as PyTorch's reflect padding.
        func reflect(_ i: Int, _ n: Int) -> Int {
            guard n > 1 else { return 0 }
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i : 2 * (n - 1) - i }
            return i
        }
        var rows = [Float](repeating: 0, count: set.area)
        for plane in 0..<(set.count * set.channels) {
            let base = plane * set.area
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for (k, tap) in taps.enumerated() { sum += tap * Float(set.pixels[base + y * width + reflect(x + k - radius, width)]) }
                    rows[y * width + x] = sum
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for (k, tap) in taps.enumerated() { sum += tap * rows[reflect(y + k - radius, height) * width + x] }
                    out.pixels[base + y * width + x] = Disturbance.level(sum)
                }
            }
        }
        return out
    }
}
