// A small C interface over libpng's full API for the Imaging module.
//
// Why not libpng's simplified API (png_image_*)? It converts what it reads: it applies the
// gAMA chunk (an 8-bit file with gamma 1.0 comes back sRGB-encoded), turns 16-bit samples into
// 8-bit ones through a gamma curve, and premultiplies alpha in its 16-bit "linear" formats.
// Diffuse wants the stored samples untouched, as Pillow shows them, so it asks the full API
// for exactly that. The full API reports errors by longjmp; these functions keep setjmp and
// longjmp inside the C file and return a message instead, so Swift never sees a jump.

#ifndef CPNG_H
#define CPNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Decodes the PNG file held in `data[0 ..< size]` into `samples`.
///
/// The samples come out row after row with no padding, as the file stores them except that:
/// palette indices are looked up (3 channels), gray below 8 bits is scaled to 8 bits
/// (1 -> 255, 2-bit v -> 85 v, 4-bit v -> 17 v), and alpha channels and tRNS transparency are
/// dropped. So there is 1 channel for gray and gray+alpha files, 3 for RGB, RGBA and palette
/// files, and each sample is one byte, or two (big-endian) in 16-bit files. No gamma or colour
/// conversion is done. Interlaced files come out de-interlaced.
///
/// `capacity` must be exactly the size of that layout; the image must be no wider than
/// `max_width` and no taller than `max_height` pixels. Returns 1 on success. On failure returns
/// 0 and writes a NUL-terminated message of at most `message_capacity` bytes to `message`.
int cpng_decode(const uint8_t *data, size_t size, uint32_t max_width, uint32_t max_height,
                uint8_t *samples, size_t capacity, char *message, size_t message_capacity);

/// Encodes 8-bit pixels (`channels` 1 for gray or 3 for RGB, rows without padding) as a PNG.
///
/// Returns 1 on success, with `*png` pointing at `*png_size` bytes that the caller releases
/// with `cpng_free`. On failure returns 0, leaves `*png` NULL and writes a message as
/// `cpng_decode` does.
int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                uint8_t **png, size_t *png_size, char *message, size_t message_capacity);

/// Releases a buffer returned by `cpng_encode`.
void cpng_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif
