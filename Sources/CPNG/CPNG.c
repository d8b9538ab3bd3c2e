// libpng's full API behind the three functions of CPNG.h.
//
// libpng reports an error by calling the error function, which must not return: ours copies
// the message and longjmps back to the setjmp in `read_image` or `write_image`. Those two
// functions hold the setjmp and nothing else of interest, so no local variable that is changed
// after setjmp is read after the jump (C leaves such variables indeterminate); the state that
// outlives a failure (the message, the output buffer) lives in the callers' frames.

#include "CPNG.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

// MARK: - Errors

/// Where an error message goes: the caller's buffer.
typedef struct {
    char *text;
    size_t capacity;
} failure_t;

static void set_message(failure_t *failure, const char *text) {
    if (failure->capacity == 0) return;
    size_t length = strlen(text);
    if (length >= failure->capacity) length = failure->capacity - 1;
    memcpy(failure->text, text, length);
    failure->text[length] = '\0';
}

static void on_error(png_structp png, png_const_charp text) {
    set_message(png_get_error_ptr(png), text);
    png_longjmp(png, 1);
}

// Warnings are about things that leave the pixels right (an ancillary chunk with a bad CRC or
// an unusable ICC profile, which libpng then skips); they are dropped instead of printed.
static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

// MARK: - Decoding

/// The PNG bytes being read and how far reading has got.
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
} source_t;

static void read_source(png_structp png, png_bytep out, size_t count) {
    source_t *source = png_get_io_ptr(png);
    if (count > source->size - source->offset) png_error(png, "file ends early (truncated)");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

/// Reads the whole file into `samples` (see cpng_decode); returns 0 after a libpng error.
static int read_image(png_structp png, png_infop info, uint32_t max_width, uint32_t max_height,
                      uint8_t *samples, size_t capacity) {
    if (setjmp(png_jmpbuf(png))) return 0;

    // libpng checks these when it reads IHDR, before it allocates anything for the rows.
    png_set_user_limits(png, max_width, max_height);
    // Damage libpng calls "benign" and would pass over (a zlib stream holding more than the
    // image, palette indices past the palette) is an error here, as in strict readers. The
    // colour-management and text chunks, whose benign errors would then also stop a read, are
    // not used for the pixels and are skipped unread.
    static const png_byte unused_chunks[] = "iCCP\0sRGB\0gAMA\0cHRM\0sBIT\0tEXt\0zTXt\0iTXt\0";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, unused_chunks, 8);
    png_set_benign_errors(png, 0);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    // A palette image is read as one index a byte and expanded to RGB below: read unexpanded,
    // libpng checks every index against the palette (its expansion would draw a missing entry
    // black), and with benign errors off an index past it stops the read.
    png_colorp palette = NULL;
    int palette_entries = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        if (!png_get_PLTE(png, info, &palette, &palette_entries)) png_error(png, "a palette image without a palette (PLTE)");
        png_set_packing(png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    // No gamma, background or 16-to-8 transform is asked for, so the samples keep their stored
    // values; alpha (and a palette's tRNS, which is not applied) is dropped.
    png_set_strip_alpha(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t row_bytes = png_get_rowbytes(png, info);
    size_t expansion = palette != NULL ? 3 : 1;
    if (row_bytes == 0 || capacity % (row_bytes * expansion) != 0 || capacity / (row_bytes * expansion) != height) {
        png_error(png, "decoded rows do not have the expected size");
    }
    // Each pass of an interlaced file fills in its pixels of the rows read so far.
    for (int pass = 0; pass < passes; pass++) {
        for (png_uint_32 y = 0; y < height; y++) {
            png_read_row(png, samples + (size_t)y * row_bytes, NULL);
        }
    }
    // Read on to IEND, so that a damaged or missing end of file is noticed too.
    png_read_end(png, NULL);
    if (palette != NULL) {
        // The indices fill the first third of the buffer; expanding from the end never
        // overwrites an index not yet read.
        size_t count = (size_t)width * height;
        for (size_t i = count; i-- > 0;) {
            png_color color = palette[samples[i]];
            samples[3 * i] = color.red;
            samples[3 * i + 1] = color.green;
            samples[3 * i + 2] = color.blue;
        }
    }
    return 1;
}

int cpng_decode(const uint8_t *data, size_t size, uint32_t max_width, uint32_t max_height,
                uint8_t *samples, size_t capacity, char *message, size_t message_capacity) {
    failure_t failure = {message, message_capacity};
    set_message(&failure, "");
    source_t source = {data, size, 0};

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_error, on_warning);
    if (png == NULL) {
        set_message(&failure, "libpng cannot start a reader (out of memory?)");
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_message(&failure, "libpng cannot start a reader (out of memory?)");
        return 0;
    }
    png_set_read_fn(png, &source, read_source);
    int ok = read_image(png, info, max_width, max_height, samples, capacity);
    png_destroy_read_struct(&png, &info, NULL);
    return ok;
}

// MARK: - Encoding

/// A growing output buffer.
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} sink_t;

static void write_sink(png_structp png, png_bytep bytes, size_t count) {
    sink_t *sink = png_get_io_ptr(png);
    if (count > sink->capacity - sink->size) {
        size_t capacity = sink->capacity > 0 ? sink->capacity : 4096;
        while (count > capacity - sink->size) {
            if (capacity > SIZE_MAX / 2) png_error(png, "encoded image is too large");
            capacity *= 2;
        }
        uint8_t *grown = realloc(sink->data, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, bytes, count);
    sink->size += count;
}

static void flush_sink(png_structp png) {
    (void)png;
}

/// Writes the image through libpng; returns 0 after a libpng error.
static int write_image(png_structp png, png_infop info, const uint8_t *pixels, uint32_t width,
                       uint32_t height, int channels) {
    if (setjmp(png_jmpbuf(png))) return 0;

    int color_type = channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY;
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t row_bytes = (size_t)width * (size_t)channels;
    for (png_uint_32 y = 0; y < height; y++) {
        png_write_row(png, pixels + (size_t)y * row_bytes);
    }
    png_write_end(png, info);
    return 1;
}

int cpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                uint8_t **png_data, size_t *png_size, char *message, size_t message_capacity) {
    failure_t failure = {message, message_capacity};
    set_message(&failure, "");
    *png_data = NULL;
    *png_size = 0;
    if (channels != 1 && channels != 3) {
        set_message(&failure, "only 1 (gray) or 3 (RGB) channels can be encoded");
        return 0;
    }
    sink_t sink = {NULL, 0, 0};

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, on_error, on_warning);
    if (png == NULL) {
        set_message(&failure, "libpng cannot start a writer (out of memory?)");
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        set_message(&failure, "libpng cannot start a writer (out of memory?)");
        return 0;
    }
    png_set_write_fn(png, &sink, write_sink, flush_sink);
    int ok = write_image(png, info, pixels, width, height, channels);
    png_destroy_write_struct(&png, &info);
    if (!ok) {
        free(sink.data);
        return 0;
    }
    *png_data = sink.data;
    *png_size = sink.size;
    return 1;
}

void cpng_free(void *buffer) {
    free(buffer);
}
