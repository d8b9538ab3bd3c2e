/// What a PNG file's header says about its image.
public struct PNGInfo: Equatable, Sendable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Bits per sample as stored: 1, 2, 4, 8 or 16 (palette files: bits per index).
    public let bitDepth: Int
    /// How samples are stored.
    let color: PNGColorType
    /// Whether the rows are stored in Adam7 interlaced order.
    public let interlaced: Bool

    /// "gray", "gray+alpha", "RGB", "RGBA" or "palette".
    public var colorType: String { color.name }

    /// The bit depth and colour type in words, for example "8-bit RGB" or "1-bit gray".
    public var kind: String { "\(bitDepth)-bit \(colorType)" }
}

/// The colour types of the PNG specification, with their codes in IHDR.
enum PNGColorType: UInt8, Sendable {
    case gray = 0
    case rgb = 2
    case palette = 3
    case grayAlpha = 4
    case rgba = 6

    /// The name `PNGInfo.colorType` reports.
    var name: String {
        switch self {
        case .gray: "gray"
        case .rgb: "RGB"
        case .palette: "palette"
        case .grayAlpha: "gray+alpha"
        case .rgba: "RGBA"
        }
    }

    /// The bit depths the specification allows with this colour type.
    var allowedBitDepths: Set<Int> {
        switch self {
        case .gray: [1, 2, 4, 8, 16]
        case .palette: [1, 2, 4, 8]
        case .rgb, .grayAlpha, .rgba: [8, 16]
        }
    }

    /// Channels of the samples libpng hands back (see CPNG.h): alpha dropped, palettes
    /// looked up.
    var decodedChannels: Int {
        switch self {
        case .gray, .grayAlpha: 1
        case .rgb, .rgba, .palette: 3
        }
    }
}
