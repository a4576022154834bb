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
    RowSampler sampler; /* sampled decoding (options.keep_rows / keep_columns) */
    png_bytep row;      /* sampled decoding: one row from libpng, from libpng's counted allocator */
    size_t memory_used; /* bytes libpng holds through png_counted_malloc */
    size_t memory_limit;
    int memory_refused; /* an allocation went over memory_limit */
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

/* Every allocation libpng makes (its structures, row buffers, inflate state, chunk buffers) goes
 * through here and is counted, so that no file can make it hold more than memory_limit: a chunk
 * that declares 2 GB gets NULL, which libpng reports as a benign "out of memory" and skips, instead
 * of 2 GB allocated and zeroed. A small header before each block remembers its size for the free. */
typedef union PngBlockHeader {
    size_t size;
    max_align_t alignment;
} PngBlockHeader;

static png_voidp png_counted_malloc(png_structp png, png_alloc_size_t size) {
    PngDecodeState *state = png_get_mem_ptr(png);
    if (size > state->memory_limit || state->memory_used > state->memory_limit - size) {
        state->memory_refused = 1;
        return NULL;
    }
    PngBlockHeader *block = malloc(sizeof *block + size);
    if (block == NULL) {
        return NULL;
    }
    block->size = size;
    state->memory_used += size;
    return block + 1;
}

static void png_counted_free(png_structp png, png_voidp pointer) {
    if (pointer == NULL) {
        return;
    }
    PngDecodeState *state = png_get_mem_ptr(png);
    PngBlockHeader *block = (PngBlockHeader *)pointer - 1;
    state->memory_used -= block->size;
    free(block);
}

/* Ancillary chunks libpng would otherwise read, check and keep. None of them changes the RGB pixels
 * we produce (no gamma or colour management, alpha and tRNS dropped, sBIT ignored), and the
 * orientation in eXIf and XMP iTXt is read from the raw bytes by the Swift side, so they are skipped
 * unread: their CRC is still checked, but a huge declared length or a compressed bomb costs
 * nothing. */
static const png_byte ignored_ancillary_chunks[] =
    "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0"
    "tEXt\0tIME\0tRNS\0zTXt\0cICP\0mDCv\0cLLI\0acTL\0fcTL\0fdAT\0";

/* Worst case of what libpng allocates for the pixels of a width-pixel image: the row and previous
 * row buffers (up to 8 bytes a pixel before transforms), our sampling row, the inflate state and
 * window, the structures; plus the sampling tables. */
static unsigned long png_decoder_memory(png_uint_32 width, png_uint_32 height) {
    return (1UL << 20) + 4 * (8 * (unsigned long)width + 64) + row_sampler_table_bytes(width, height);
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
    png_read_update_info(png, info);
}

/* Sampled decoding, one row at a time. An Adam7 file is read pass by pass without libpng's
 * de-interlacing (which needs the whole image): each pass row's pixels are put where they belong. */
static void read_sampled_rows(PngDecodeState *state, png_uint_32 width, png_uint_32 height) {
    png_structp png = state->png;
    int interlaced = png_get_interlace_type(png, state->info) == PNG_INTERLACE_ADAM7;
    for (int pass = 0; pass < (interlaced ? 7 : 1); pass++) {
        png_uint_32 rows = interlaced ? PNG_PASS_ROWS(height, pass) : height;
        png_uint_32 columns = interlaced ? PNG_PASS_COLS(width, pass) : width;
        if (rows == 0 || columns == 0) {
            continue; /* libpng skips empty passes too */
        }
        for (png_uint_32 r = 0; r < rows; r++) {
            png_uint_32 y = interlaced ? PNG_ROW_FROM_PASS_ROW(r, pass) : r;
            unsigned char *direct = interlaced ? NULL : row_sampler_direct_row(&state->sampler, y);
            if (direct != NULL) {
                png_read_row(png, direct, NULL); /* a whole kept row: straight into the output */
                continue;
            }
            png_read_row(png, state->row, NULL);
            if (interlaced) {
                row_sampler_put(&state->sampler, y, state->row, columns, PNG_COL_FROM_PASS_COL(0, pass),
                                (unsigned long)1 << PNG_PASS_COL_SHIFT(pass));
            } else {
                row_sampler_put(&state->sampler, y, state->row, columns, 0, 1);
            }
        }
    }
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
        } else if (state->memory_refused) {
            decode_result_fail(result, IMAGE_CODECS_TOO_LARGE,
                               "PNG decoder needs more than the %zu KiB of memory allowed (%s)",
                               state->memory_limit >> 10, state->text);
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
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored_ancillary_chunks,
                                (int)(sizeof ignored_ancillary_chunks / 5));
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0); /* unknown ancillary ones too */
    /* libpng's default cap is 1,000,000 per side and reports a breach as a generic error; lifting it
     * lets decode_result_allocate apply our own limits and call the result "too large". */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    result->decoder_memory = png_decoder_memory(width, height);
    if (!decode_result_allocate(result, width, height, &state->options, "PNG")) {
        return;
    }
    if (!row_sampler_start(&state->sampler, result, &state->options, width, height)) {
        return;
    }
    if (!state->sampler.active) {
        png_set_interlace_handling(png); /* Adam7: libpng runs the passes, we get whole rows */
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
    if (state->sampler.active) {
        state->row = png_malloc(png, row_bytes); /* counted; freed before the structures */
        state->reading_pixels = 1;
        read_sampled_rows(state, width, height);
        png_read_end(png, NULL);
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
    state.memory_limit = state.options.max_decoder_memory;
    state.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &state, png_error_handler, png_warning_handler,
                                         &state, png_counted_malloc, png_counted_free);
    if (state.png != NULL) {
        state.info = png_create_info_struct(state.png);
    }
    if (state.png == NULL || state.info == NULL) {
        decode_result_fail(result, IMAGE_CODECS_OUT_OF_MEMORY, "out of memory decoding PNG (libpng setup)");
    } else {
        decode_png_guarded(&state, result);
    }
    if (state.row != NULL) {
        png_free(state.png, state.row);
    }
    png_destroy_read_struct(&state.png, &state.info, NULL); /* accepts NULLs */
    free(state.rows);
    row_sampler_free(&state.sampler);
}
