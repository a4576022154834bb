/*
 * PNG from memory to 8-bit RGB with libpng.
 *
 * libpng reports errors through an error callback that must not return; ours records the text and
 * longjmps back to decode_png_guarded. Warnings (damaged ancillary chunks and the like, which leave
 * the pixels intact) are kept as a note instead of being printed. CRC errors: fatal in critical
 * chunks (IHDR, PLTE, IDAT, IEND), a warning in ancillary ones, which libpng then skips.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "decode_result.h"

/* Owned by image_codecs_decode_png, not by the function that calls setjmp, so its contents are
 * reliable after the longjmp (C only guarantees that for objects outside the setjmp caller). */
typedef struct PngDecodeState {
    png_structp png;
    png_infop info;
    png_bytep *rows; /* one pointer per output row, into result->pixels */
    const unsigned char *data;
    size_t size;
    size_t offset;
    int ran_out_of_data;
    int reading_pixels; /* set once the output rows exist, so a failure may leave a partial image */
    ImageCodecsOptions options;
    char text[IMAGE_CODECS_MESSAGE_CAPACITY];
    ImageCodecsResult *result;
} PngDecodeState;

static void png_read_from_memory(png_structp png, png_bytep destination, size_t count) {
    PngDecodeState *state = png_get_io_ptr(png);
    if (count > state->size - state->offset) {
        size_t available = state->size - state->offset;
        if (state->ran_out_of_data || !state->reading_pixels || !state->options.allow_truncated) {
            state->ran_out_of_data = 1;
            png_error(png, "the file ends before its IEND chunk");
        }
        /* libpng asks for a whole IDAT chunk at once, so failing here would lose every row of a
         * cut-short file. Zeros instead make zlib stop at once ("invalid stored block lengths") after
         * inflating the rows the real bytes hold; the error that follows is then forgiven. */
        state->ran_out_of_data = 1;
        memcpy(destination, state->data + state->offset, available);
        memset(destination + available, 0, count - available);
        state->offset = state->size;
        return;
    }
    memcpy(destination, state->data + state->offset, count);
    state->offset += count;
}

static void png_error_handler(png_structp png, png_const_charp text) {
    PngDecodeState *state = png_get_error_ptr(png);
    snprintf(state->text, sizeof state->text, "%s", text);
    png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp text) {
    PngDecodeState *state = png_get_error_ptr(png);
    decode_result_note_warning(state->result, text);
}

/* Asks libpng for 8-bit RGB whatever the file holds. The choices follow Pillow's and OpenCV's
 * convert-to-RGB behaviour, so reference pixels from either match exactly: 16-bit samples keep
 * their high byte (strip, not scale), alpha and tRNS transparency are dropped, not composited, and
 * no gamma correction is applied. */
static void request_8bit_rgb(png_structp png, png_infop info) {
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    int is_gray = (color_type & PNG_COLOR_MASK_COLOR) == 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png); /* may add alpha from tRNS, stripped below */
    }
    if (is_gray && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (bit_depth == 16) {
        png_set_strip_16(png);
    }
    if ((color_type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS) != 0) {
        png_set_strip_alpha(png);
    }
    if (is_gray) {
        png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png); /* Adam7: libpng runs the passes, we get whole rows */
    png_read_update_info(png, info);
}

static void decode_png_guarded(PngDecodeState *state, ImageCodecsResult *result) {
    png_structp png = state->png;
    png_infop info = state->info;
    if (setjmp(png_jmpbuf(png))) {
        if (state->reading_pixels && state->options.allow_truncated && result->pixels != NULL) {
            /* Rows libpng never delivered stay black (zeroed below), as in Pillow's truncated loads. */
            decode_result_note_recovery(result, "%s PNG data (%s), decoded anyway: missing rows are black",
                                        state->ran_out_of_data ? "truncated" : "damaged", state->text);
            return;
        }
        if (state->ran_out_of_data) {
            decode_result_fail(result, IMAGE_CODECS_TRUNCATED, "truncated PNG data (%s)", state->text);
        } else if (strstr(state->text, "memory") != NULL) {
            decode_result_fail(result, IMAGE_CODECS_OUT_OF_MEMORY, "out of memory decoding PNG (%s)", state->text);
        } else {
            decode_result_fail(result, IMAGE_CODECS_CORRUPT, "invalid PNG data (%s)", state->text);
        }
        return; /* the caller destroys the libpng structures and frees the row pointers */
    }
    png_set_read_fn(png, state, png_read_from_memory);
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_WARN_DISCARD);
    png_set_chunk_malloc_max(png, IMAGE_CODECS_MAX_PNG_CHUNK_BYTES);
    png_set_chunk_cache_max(png, 1000); /* unknown/text chunks kept; more is a denial-of-service file */
    /* libpng's default cap is 1,000,000 per side and reports a breach as a generic error; lifting it
     * lets decode_result_allocate apply our own limits and call the result "too large". */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    if (!decode_result_allocate(result, width, height, &state->options, "PNG")) {
        return;
    }
    request_8bit_rgb(png, info);
    size_t row_bytes = (size_t)width * 3;
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 ||
        png_get_rowbytes(png, info) != row_bytes) {
        decode_result_fail(result, IMAGE_CODECS_UNSUPPORTED,
                           "unsupported kind of PNG (could not convert colour type %d to 8-bit RGB)",
                           png_get_color_type(png, info));
        return;
    }
    state->rows = malloc((size_t)height * sizeof *state->rows);
    if (state->rows == NULL) {
        decode_result_fail(result, IMAGE_CODECS_OUT_OF_MEMORY, "out of memory decoding PNG (row table)");
        return;
    }
    for (png_uint_32 y = 0; y < height; y++) {
        state->rows[y] = result->pixels + (size_t)y * row_bytes;
    }
    if (state->options.allow_truncated) {
        memset(result->pixels, 0, (size_t)height * row_bytes);
    }
    state->reading_pixels = 1;
    png_read_image(png, state->rows);
    /* Reads through IEND, so a file cut after its last IDAT byte is still reported as truncated. */
    png_read_end(png, NULL);
}

void image_codecs_decode_png(const unsigned char *data, size_t size, const ImageCodecsOptions *options,
                             ImageCodecsResult *result) {
    if (result == NULL) {
        return;
    }
    decode_result_reset(result);
    if (data == NULL || size == 0) {
        decode_result_fail(result, IMAGE_CODECS_INVALID_ARGUMENT, "no PNG data (empty buffer)");
        return;
    }
    PngDecodeState state;
    memset(&state, 0, sizeof state);
    state.data = data;
    state.size = size;
    state.result = result;
    state.options = decode_options_resolve(options);
    state.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, png_error_handler, png_warning_handler);
    if (state.png != NULL) {
        state.info = png_create_info_struct(state.png);
    }
    if (state.png == NULL || state.info == NULL) {
        decode_result_fail(result, IMAGE_CODECS_OUT_OF_MEMORY, "out of memory decoding PNG (libpng setup)");
    } else {
        decode_png_guarded(&state, result);
    }
    png_destroy_read_struct(&state.png, &state.info, NULL); /* accepts NULLs */
    free(state.rows);
}
