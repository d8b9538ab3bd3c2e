/// The layout of the samples libpng decodes (see CPNG.h), and their conversion to 8-bit gray
/// or RGB pixels the way Pillow converts images.
struct PNGSamples {
    /// Width times height.
    let pixelCount: Int
    /// 1 (gray) or 3 (RGB).
    let channels: Int
    /// Whether each sample takes two bytes (big-endian) instead of one.
    let sixteenBit: Bool

    /// The bytes the samples take.
    var byteCount: Int { pixelCount * channels * (sixteenBit ? 2 : 1) }

    /// 8-bit pixels with `outputChannels` channels made from the decoded samples in `samples`,
    /// which this overwrites (16-bit samples are reduced to 8 bits in place).
    func convert(_ samples: UnsafeMutableRawBufferPointer, toChannels outputChannels: Int) -> [UInt8] {
        let sampleCount = pixelCount * channels
        let source = samples.bindMemory(to: UInt8.self)
        if sixteenBit { reduceTo8Bits(source, count: sampleCount) }
        let outputCount = pixelCount * outputChannels
        return [UInt8](unsafeUninitializedCapacity: outputCount) { output, initialized in
            switch (channels, outputChannels) {
            case (1, 3): grayToRGB(source, into: output, pixelCount: pixelCount)
            case (3, 1): rgbToGray(source, into: output, pixelCount: pixelCount)
            default: _ = output.initialize(from: source[..<outputCount])
            }
            initialized = outputCount
        }
    }
}

/// Replaces the first `count` big-endian 16-bit samples in `samples` by their 8-bit values,
/// round(v / 257), packed at the front. Writing sample i to byte i never overtakes the reads
/// at bytes 2i and 2i + 1.
///
/// round(v / 257) == (v + 128) / 257 in integers: v / 257 is never exactly half-way.
private func reduceTo8Bits(_ samples: UnsafeMutableBufferPointer<UInt8>, count: Int) {
    for i in 0..<count {
        let value = UInt32(samples[2 * i]) << 8 | UInt32(samples[2 * i + 1])
        samples[i] = UInt8((value + 128) / 257)
    }
}

/// Gray to RGB: each sample repeated three times.
private func grayToRGB(_ gray: UnsafeMutableBufferPointer<UInt8>, into rgb: UnsafeMutableBufferPointer<UInt8>,
                       pixelCount: Int) {
    for i in 0..<pixelCount {
        let value = gray[i]
        rgb[3 * i] = value
        rgb[3 * i + 1] = value
        rgb[3 * i + 2] = value
    }
}

/// RGB to gray by Pillow's ITU-R 601-2 luma (libImaging/Convert.c), in 16-bit fixed point
/// rounded half up: (19595 R + 38470 G + 7471 B + 0x8000) >> 16. The weights sum to 65536, so
/// the result never exceeds 255.
private func rgbToGray(_ rgb: UnsafeMutableBufferPointer<UInt8>, into gray: UnsafeMutableBufferPointer<UInt8>,
                       pixelCount: Int) {
    for i in 0..<pixelCount {
        let red = UInt32(rgb[3 * i]), green = UInt32(rgb[3 * i + 1]), blue = UInt32(rgb[3 * i + 2])
        gray[i] = UInt8(truncatingIfNeeded: (19595 * red + 38470 * green + 7471 * blue + 0x8000) >> 16)
    }
}
