import Foundation
import NN

/// pytorch-fid's FID Inception v3: the network whose 2,048 pooled features define the
/// standard FID (Heusel et al. 2017, with the TensorFlow weights of 2015-12-05 that pytorch-fid
/// ports as `pt_inception-2015-12-05-6726825d.pth`). It differs from torchvision's Inception v3
/// in its pools: blocks A, C and the first E average 3x3 windows over the image's pixels only
/// (padding not counted), and the last E block takes the maximum instead.
///
/// Every unit is conv (no bias) -> batch norm (eps 0.001, running statistics) -> ReLU; the
/// norm is folded into the convolution when the weights are loaded. Inference only. Weight
/// names are pytorch-fid's state-dict keys (`Mixed_6b.branch7x7_2.conv.weight`, ...).
public final class FIDInception {
    /// One conv + batch-norm + ReLU unit as its state-dict prefix names it.
    struct Unit {
        let name: String
        let inChannels, outChannels, kernelHeight, kernelWidth, stride, padHeight, padWidth: Int
    }

    /// A folded unit: weight (O, I, KH, KW) scaled by the norm, and the norm's shift as bias.
    struct Folded {
        let weight: Variable
        let bias: Variable
        let unit: Unit
    }

    private var units: [String: Folded] = [:]

    /// The network from pytorch-fid's weights (as converted by Models/fid-inception/convert.py);
    /// `path` names the file in errors. Every tensor must be there with its shape.
    public init(weights: [String: Tensor], path: String) throws {
        var problems: [String] = []
        for unit in Self.units {
            let expected: [(String, [Int])] = [
                ("conv.weight", [unit.outChannels, unit.inChannels, unit.kernelHeight, unit.kernelWidth]),
                ("bn.weight", [unit.outChannels]), ("bn.bias", [unit.outChannels]),
                ("bn.running_mean", [unit.outChannels]), ("bn.running_var", [unit.outChannels]),
            ]
            for (suffix, shape) in expected {
                let key = "\(unit.name).\(suffix)"
                guard let tensor = weights[key] else { problems.append("missing \(key)"); continue }
                if tensor.shape != shape { problems.append("\(key) has shape \(tensor.shape), expected \(shape)") }
            }
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(3).joined(separator: "; ")
            throw FileFormatError(path: path, reason: "is not pytorch-fid's FID Inception: \(shown)"
                                  + (problems.count > 3 ? " (and \(problems.count - 3) more)" : ""))
        }
        for unit in Self.units { units[unit.name] = Self.fold(unit, weights) }
    }

    /// Conv weights times gamma / sqrt(var + 0.001), bias beta - mean gamma / sqrt(var + 0.001).
    private static func fold(_ unit: Unit, _ weights: [String: Tensor]) -> Folded {
        let gamma = weights["\(unit.name).bn.weight"]!.scalars, beta = weights["\(unit.name).bn.bias"]!.scalars
        let mean = weights["\(unit.name).bn.running_mean"]!.scalars, variance = weights["\(unit.name).bn.running_var"]!.scalars
        var weight = weights["\(unit.name).conv.weight"]!
        let perOutput = weight.count / unit.outChannels
        var bias = [Float](repeating: 0, count: unit.outChannels)
        weight.withUnsafeMutableBufferPointer { w in
            for o in 0..<unit.outChannels {
                let scale = Double(gamma[o]) / (Double(variance[o]) + 0.001).squareRoot()
                for i in (o * perOutput)..<((o + 1) * perOutput) { w[i] = Float(Double(w[i]) * scale) }
                bias[o] = Float(Double(beta[o]) - Double(mean[o]) * scale)
            }
        }
        return Folded(weight: Variable(weight), bias: Variable(Tensor(shape: [unit.outChannels], bias)), unit: unit)
    }

    /// Pool3 features (N, 2048) of images (N, 3, H, W) in [-1, 1] (H, W at least 75; 299 is
    /// what the network was trained on).
    public func features(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == 3 && images.shape[2] >= 75 && images.shape[3] >= 75,
                     "FID Inception reads (N, 3, H >= 75, W >= 75), got \(images.shape)")
        var x = Variable(images)
        for name in ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"] { x = apply(name, x) }
        x = Variable(maxPool2d(x.value, kernel: 3, stride: 2))
        for name in ["Conv2d_3b_1x1", "Conv2d_4a_3x3"] { x = apply(name, x) }
        x = Variable(maxPool2d(x.value, kernel: 3, stride: 2))
        for name in ["Mixed_5b", "Mixed_5c", "Mixed_5d"] { x = blockA(name, x) }
        x = blockB("Mixed_6a", x)
        for name in ["Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"] { x = blockC(name, x) }
        x = blockD("Mixed_7a", x)
        x = blockE("Mixed_7b", x, maxPool: false)
        x = blockE("Mixed_7c", x, maxPool: true)
        return globalAveragePool(x).value
    }

    /// The unit `name`: its convolution (asymmetric padding padded first), bias and ReLU.
    private func apply(_ name: String, _ x: Variable) -> Variable {
        let folded = units[name]!, unit = folded.unit
        var input = x, padding = unit.padHeight
        if unit.padHeight != unit.padWidth {
            input = zeroPad(x, left: unit.padWidth, right: unit.padWidth, top: unit.padHeight, bottom: unit.padHeight)
            padding = 0
        }
        var out = conv2d(input, weight: folded.weight, bias: folded.bias, stride: unit.stride, padding: padding).value
        out.withUnsafeMutableBufferPointer { values in
            for i in values.indices where values[i] < 0 { values[i] = 0 }
        }
        return Variable(out)
    }

    private func chain(_ block: String, _ names: [String], _ x: Variable) -> Variable {
        names.reduce(x) { apply("\(block).\($1)", $0) }
    }

    private func averagePooled(_ x: Variable) -> Variable { Variable(averagePool2d(x.value, kernel: 3, stride: 1, padding: 1)) }

    private func blockA(_ block: String, _ x: Variable) -> Variable {
        concatChannels([
            apply("\(block).branch1x1", x),
            chain(block, ["branch5x5_1", "branch5x5_2"], x),
            chain(block, ["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x),
            apply("\(block).branch_pool", averagePooled(x)),
        ])
    }

    private func blockB(_ block: String, _ x: Variable) -> Variable {
        concatChannels([
            apply("\(block).branch3x3", x),
            chain(block, ["branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"], x),
            Variable(maxPool2d(x.value, kernel: 3, stride: 2)),
        ])
    }

    private func blockC(_ block: String, _ x: Variable) -> Variable {
        concatChannels([
            apply("\(block).branch1x1", x),
            chain(block, ["branch7x7_1", "branch7x7_2", "branch7x7_3"], x),
            chain(block, ["branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5"], x),
            apply("\(block).branch_pool", averagePooled(x)),
        ])
    }

    private func blockD(_ block: String, _ x: Variable) -> Variable {
        concatChannels([
            chain(block, ["branch3x3_1", "branch3x3_2"], x),
            chain(block, ["branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"], x),
            Variable(maxPool2d(x.value, kernel: 3, stride: 2)),
        ])
    }

    private func blockE(_ block: String, _ x: Variable, maxPool: Bool) -> Variable {
        let narrow = apply("\(block).branch3x3_1", x)
        let wide = chain(block, ["branch3x3dbl_1", "branch3x3dbl_2"], x)
        let pooled = maxPool ? Variable(maxPool2d(x.value, kernel: 3, stride: 1, padding: 1)) : averagePooled(x)
        return concatChannels([
            apply("\(block).branch1x1", x),
            apply("\(block).branch3x3_2a", narrow), apply("\(block).branch3x3_2b", narrow),
            apply("\(block).branch3x3dbl_3a", wide), apply("\(block).branch3x3dbl_3b", wide),
            apply("\(block).branch_pool", pooled),
        ])
    }
}

extension FIDInception {
    /// Every unit of the network, in pytorch-fid's names, with its shape and geometry.
    static let units: [Unit] = {
        var units: [Unit] = []
        func unit(_ name: String, _ input: Int, _ output: Int, _ kh: Int, _ kw: Int, stride: Int = 1) {
            units.append(Unit(name: name, inChannels: input, outChannels: output, kernelHeight: kh, kernelWidth: kw,
                              stride: stride, padHeight: stride == 1 ? kh / 2 : 0, padWidth: stride == 1 ? kw / 2 : 0))
        }
        func unpadded(_ name: String, _ input: Int, _ output: Int, _ k: Int, stride: Int = 1) {
            units.append(Unit(name: name, inChannels: input, outChannels: output, kernelHeight: k, kernelWidth: k,
                              stride: stride, padHeight: 0, padWidth: 0))
        }
        unpadded("Conv2d_1a_3x3", 3, 32, 3, stride: 2)
        unpadded("Conv2d_2a_3x3", 32, 32, 3)
        unit("Conv2d_2b_3x3", 32, 64, 3, 3)
        unit("Conv2d_3b_1x1", 64, 80, 1, 1)
        unpadded("Conv2d_4a_3x3", 80, 192, 3)
        for (block, input, pool) in [("Mixed_5b", 192, 32), ("Mixed_5c", 256, 64), ("Mixed_5d", 288, 64)] {
            unit("\(block).branch1x1", input, 64, 1, 1)
            unit("\(block).branch5x5_1", input, 48, 1, 1)
            unit("\(block).branch5x5_2", 48, 64, 5, 5)
            unit("\(block).branch3x3dbl_1", input, 64, 1, 1)
            unit("\(block).branch3x3dbl_2", 64, 96, 3, 3)
            unit("\(block).branch3x3dbl_3", 96, 96, 3, 3)
            unit("\(block).branch_pool", input, pool, 1, 1)
        }
        unit("Mixed_6a.branch3x3", 288, 384, 3, 3, stride: 2)
        unit("Mixed_6a.branch3x3dbl_1", 288, 64, 1, 1)
        unit("Mixed_6a.branch3x3dbl_2", 64, 96, 3, 3)
        unit("Mixed_6a.branch3x3dbl_3", 96, 96, 3, 3, stride: 2)
        for (block, c7) in [("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)] {
            unit("\(block).branch1x1", 768, 192, 1, 1)
            unit("\(block).branch7x7_1", 768, c7, 1, 1)
            unit("\(block).branch7x7_2", c7, c7, 1, 7)
            unit("\(block).branch7x7_3", c7, 192, 7, 1)
            unit("\(block).branch7x7dbl_1", 768, c7, 1, 1)
            unit("\(block).branch7x7dbl_2", c7, c7, 7, 1)
            unit("\(block).branch7x7dbl_3", c7, c7, 1, 7)
            unit("\(block).branch7x7dbl_4", c7, c7, 7, 1)
            unit("\(block).branch7x7dbl_5", c7, 192, 1, 7)
            unit("\(block).branch_pool", 768, 192, 1, 1)
        }
        unit("Mixed_7a.branch3x3_1", 768, 192, 1, 1)
        unit("Mixed_7a.branch3x3_2", 192, 320, 3, 3, stride: 2)
        unit("Mixed_7a.branch7x7x3_1", 768, 192, 1, 1)
        unit("Mixed_7a.branch7x7x3_2", 192, 192, 1, 7)
        unit("Mixed_7a.branch7x7x3_3", 192, 192, 7, 1)
        unit("Mixed_7a.branch7x7x3_4", 192, 192, 3, 3, stride: 2)
        for (block, input) in [("Mixed_7b", 1280), ("Mixed_7c", 2048)] {
            unit("\(block).branch1x1", input, 320, 1, 1)
            unit("\(block).branch3x3_1", input, 384, 1, 1)
            unit("\(block).branch3x3_2a", 384, 384, 1, 3)
            unit("\(block).branch3x3_2b", 384, 384, 3, 1)
            unit("\(block).branch3x3dbl_1", input, 448, 1, 1)
            unit("\(block).branch3x3dbl_2", 448, 384, 3, 3)
            unit("\(block).branch3x3dbl_3a", 384, 384, 1, 3)
            unit("\(block).branch3x3dbl_3b", 384, 384, 3, 1)
            unit("\(block).branch_pool", input, 192, 1, 1)
        }
        return units
    }()
}
