import Foundation
import NN

/// config.json as diffusers reads and writes it: a missing key takes UNet2DModel's default; a
/// key with a value Diffuse cannot run is an error naming it.
extension UNetConfig {
    /// The diffusers release whose UNet2DModel config this follows.
    static let diffusersVersion = "0.42.1"

    public init(json data: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data), let dict = object as? [String: Any] else {
            throw ConfigError(field: "(file)", reason: "is not a JSON object")
        }
        try self.init(dictionary: dict)
    }

    init(dictionary d: [String: Any]) throws {
        let reader = ConfigReader(d)
        if let name = try reader.string("_class_name"), name != "UNet2DModel" {
            throw ConfigError(field: "_class_name", reason: "is \(name); only UNet2DModel is supported")
        }
        let blocks = try reader.intList("block_out_channels") ?? [224, 448, 672, 896]
        let down = try reader.stringList("down_block_types") ?? ["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"]
        let up = try reader.stringList("up_block_types") ?? ["AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"]
        let downTypes = try down.map { name -> DownBlock in
            guard let type = DownBlock(rawValue: name) else {
                throw ConfigError(field: "down_block_types", reason: "\(name) is not supported (DownBlock2D, AttnDownBlock2D)")
            }
            return type
        }
        let upTypes = try up.map { name -> UpBlock in
            guard let type = UpBlock(rawValue: name) else {
                throw ConfigError(field: "up_block_types", reason: "\(name) is not supported (UpBlock2D, AttnUpBlock2D)")
            }
            return type
        }
        let sampleSize: Int
        switch d["sample_size"] {
        case nil, is NSNull: sampleSize = 32
        case let size as Int: sampleSize = size
        case let sizes as [Int] where sizes.count == 2 && sizes[0] == sizes[1]: sampleSize = sizes[0]
        default: throw ConfigError(field: "sample_size", reason: "must be an integer (square samples)")
        }
        self.init(sampleSize: sampleSize, inChannels: try reader.int("in_channels") ?? 3,
                  outChannels: try reader.int("out_channels") ?? 3, blockOutChannels: blocks,
                  layersPerBlock: try reader.int("layers_per_block") ?? 2, downBlockTypes: downTypes, upBlockTypes: upTypes)
        addAttention = try reader.bool("add_attention") ?? true
        attentionHeadDim = reader.isNull("attention_head_dim") ? nil : try reader.int("attention_head_dim") ?? 8
        guard !reader.isNull("norm_num_groups") else {
            throw ConfigError(field: "norm_num_groups", reason: "null (automatic groups) is not supported; give a number")
        }
        normNumGroups = try reader.int("norm_num_groups") ?? 32
        normEps = try reader.double("norm_eps") ?? 1e-5
        flipSinToCos = try reader.bool("flip_sin_to_cos") ?? true
        freqShift = try reader.int("freq_shift") ?? 0
        centerInputSample = try reader.bool("center_input_sample") ?? false
        downsamplePadding = try reader.int("downsample_padding") ?? 1
        midBlockScaleFactor = try reader.double("mid_block_scale_factor") ?? 1
        numClassEmbeds = try reader.int("num_class_embeds")

        // Keys whose only supported value is diffusers' default.
        try reader.require("time_embedding_type", "positional")
        try reader.require("mid_block_type", "UNetMidBlock2D")
        try reader.require("downsample_type", "conv")
        try reader.require("upsample_type", "conv")
        try reader.require("act_fn", "silu")
        try reader.require("resnet_time_scale_shift", "default")
        try reader.requireNull("time_embedding_dim")
        try reader.requireNull("class_embed_type")
        if let dropout = try reader.double("dropout"), dropout != 0 {
            throw ConfigError(field: "dropout", reason: "\(dropout) is not supported (only 0)")
        }
        if let groups = try reader.int("attn_norm_num_groups"), groups != normNumGroups {
            throw ConfigError(field: "attn_norm_num_groups", reason: "\(groups) is not supported (only null, meaning norm_num_groups)")
        }
        try validate()
    }

    /// config.json with every key diffusers writes, sorted, two-space indented.
    public func jsonData() throws -> Data {
        let dict: [String: Any] = [
            "_class_name": "UNet2DModel",
            "_diffusers_version": Self.diffusersVersion,
            "act_fn": "silu",
            "add_attention": addAttention,
            "attention_head_dim": attentionHeadDim.map { $0 as Any } ?? NSNull(),
            "attn_norm_num_groups": NSNull(),
            "block_out_channels": blockOutChannels,
            "center_input_sample": centerInputSample,
            "class_embed_type": NSNull(),
            "down_block_types": downBlockTypes.map(\.rawValue),
            "downsample_padding": downsamplePadding,
            "downsample_type": "conv",
            "dropout": 0.0,
            "flip_sin_to_cos": flipSinToCos,
            "freq_shift": freqShift,
            "in_channels": inChannels,
            "layers_per_block": layersPerBlock,
            "mid_block_scale_factor": midBlockScaleFactor,
            "mid_block_type": "UNetMidBlock2D",
            "norm_eps": normEps,
            "norm_num_groups": normNumGroups,
            "num_class_embeds": numClassEmbeds.map { $0 as Any } ?? NSNull(),
            "num_train_timesteps": NSNull(),
            "out_channels": outChannels,
            "resnet_time_scale_shift": "default",
            "sample_size": sampleSize,
            "time_embedding_dim": NSNull(),
            "time_embedding_type": "positional",
            "up_block_types": upBlockTypes.map(\.rawValue),
            "upsample_type": "conv",
        ]
        return try JSONSerialization.data(withJSONObject: dict, options: [.prettyPrinted, .sortedKeys])
    }
}
