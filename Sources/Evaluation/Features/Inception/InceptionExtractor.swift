import Foundation
import NN

/// The standard FID features: pytorch-fid's FID Inception v3 pool3 (2,048 numbers), from a
/// weight file the user supplies (converted by Models/fid-inception/convert.py). Images of any
/// size are made RGB (gray repeated) and resized to 299 x 299 first, as pytorch-fid does
/// (bilinear, no antialiasing) or, as an option, as clean-fid does (Pillow's bicubic on each
/// channel's 0...255 values, clipped).
public struct InceptionExtractor: FeatureExtractor {
    public enum Resize: String, CaseIterable, Sendable {
        /// torch.nn.functional.interpolate(mode="bilinear", align_corners=False), pytorch-fid's.
        case pytorchFID = "pytorch-fid"
        /// PIL bicubic on float channels, clipped to 0...255, clean-fid's.
        case cleanFID = "clean-fid"
    }

    /// Inception's input side.
    public static let side = 299
    /// Images a forward pass takes at once (memory: about 60 MB of activations an image).
    static let chunk = 8

    let network: FIDInception
    let weightsName: String
    let fingerprint: String
    public let resolution: Int
    public let channels: Int
    public let resize: Resize

    /// The network from `file` (safetensors), reading images of `resolution` with `channels`.
    public init(file: URL, resolution: Int, channels: Int, resize: Resize = .pytorchFID) throws {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw FileFormatError(path: file.path, reason: "no such file: the FID Inception weights are not shipped; "
                                  + "convert pytorch-fid's pt_inception-2015-12-05-6726825d.pth with Models/fid-inception/convert.py")
        }
        let weights = try SafeTensors.read(from: file).tensors
        try self.init(weights: weights, name: file.lastPathComponent, path: file.path, resolution: resolution,
                      channels: channels, resize: resize)
    }

    init(weights: [String: Tensor], name: String, path: String, resolution: Int, channels: Int, resize: Resize) throws {
        network = try FIDInception(weights: weights, path: path)
        (weightsName, fingerprint) = (name, EvaluatorFolder.fingerprint(weights))
        (self.resolution, self.channels, self.resize) = (resolution, channels, resize)
    }

    public var name: String {
        "inception (pytorch-fid FID Inception v3, pool3 2048 features, weights \(weightsName) (\(fingerprint)), "
            + "resized to 299 as \(resize.rawValue))"
    }

    public func features(_ images: Tensor) -> Tensor {
        let n = images.shape[0]
        var out: [Float] = []
        out.reserveCapacity(n * 2048)
        for start in stride(from: 0, to: n, by: Self.chunk) {
            out += network.features(prepared(images, start..<min(start + Self.chunk, n))).scalars
        }
        return Tensor(shape: [n, 2048], out)
    }

    public func probabilities(_ images: Tensor) -> Tensor? { nil }

    /// Images `range` of (N, C, H, W) in [-1, 1] as Inception's (n, 3, 299, 299) in [-1, 1].
    func prepared(_ images: Tensor, _ range: Range<Int>) -> Tensor {
        let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
        let values = images.scalars
        var rgb = [Float]()
        rgb.reserveCapacity(range.count * 3 * h * w)
        for i in range {
            for channel in 0..<3 {
                let plane = (i * c + (c == 1 ? 0 : channel)) * h * w
                rgb += values[plane..<(plane + h * w)]
            }
        }
        let batch = Tensor(shape: [range.count, 3, h, w], rgb)
        let side = Self.side
        switch resize {
        case .pytorchFID:
            return h == side && w == side ? batch : resizeBilinear(batch, height: side, width: side)
        case .cleanFID:
            var resized = [Float]()
            resized.reserveCapacity(range.count * 3 * side * side)
            for plane in 0..<(range.count * 3) {
                // Back to the 0...255 values the PNG held, as clean-fid reads them.
                let levels = rgb[(plane * h * w)..<((plane + 1) * h * w)].map { (($0 + 1) * 127.5).rounded() }
                let scaled = PillowBicubic.resize(levels, height: h, width: w, outHeight: side, outWidth: side)
                resized += scaled.map { min(255, max(0, $0)) / 127.5 - 1 }
            }
            return Tensor(shape: [range.count, 3, side, side], resized)
        }
    }
}
