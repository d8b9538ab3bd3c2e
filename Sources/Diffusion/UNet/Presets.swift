/// Ready-made U-Net configs for a new user. Each has three levels (two downsamplings), so any
/// resolution divisible by 4 works, Fashion-MNIST's 28x28 included; attention runs at the lowest
/// resolution (and in the mid block), where it is cheap.
public enum UNetPreset: String, CaseIterable, Sendable {
    /// (32, 64, 64) channels, one resnet per level: trains usefully on two cores.
    case tiny
    /// (64, 128, 128) channels, two resnets per level.
    case small
    /// (128, 256, 256) channels, two resnets per level, attention at the two lower levels.
    case base

    public func config(resolution: Int, channels: Int, classes: Int? = nil) -> UNetConfig {
        let blocks: [Int], layers: Int
        var down: [UNetConfig.DownBlock] = [.plain, .plain, .attention]
        var up: [UNetConfig.UpBlock] = [.attention, .plain, .plain]
        switch self {
        case .tiny: (blocks, layers) = ([32, 64, 64], 1)
        case .small: (blocks, layers) = ([64, 128, 128], 2)
        case .base:
            (blocks, layers) = ([128, 256, 256], 2)
            (down, up) = ([.plain, .attention, .attention], [.attention, .attention, .plain])
        }
        var config = UNetConfig(sampleSize: resolution, inChannels: channels, outChannels: channels,
                                blockOutChannels: blocks, layersPerBlock: layers, downBlockTypes: down, upBlockTypes: up)
        config.numClassEmbeds = classes
        return config
    }
}
