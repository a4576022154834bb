#include "decode_result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void decode_result_reset(ImageCodecsResult *result) {
    memset(result, 0, sizeof *result);
    result->status = IMAGE_CODECS_OK;
}

/* Drops the pixel buffer, freeing it only if it came from malloc. */
static void release_pixels(ImageCodecsResult *result) {
    if (!result->caller_owns_pixels) {
        free(result->pixels);
    }
    result->pixels = NULL;
    result->caller_owns_pixels = 0;
}

void decode_result_fail(ImageCodecsResult *result, ImageCodecsStatus status, const char *format, ...) {
    release_pixels(result);
    result->width = 0;
    result->height = 0;
    result->status = status;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(result->message, sizeof result->message, format, arguments);
    va_end(arguments);
}

void decode_result_note_warning(ImageCodecsResult *result, const char *text) {
    if (result->warning[0] == '\0') {
        snprintf(result->warning, sizeof result->warning, "%s", text);
    }
}

void image_codecs_default_options(ImageCodecsOptions *options) {
    if (options == NULL) {
        return;
    }
    memset(options, 0, sizeof *options);
    options->max_pixels = IMAGE_CODECS_MAX_PIXELS;
    options->max_decoder_memory = IMAGE_CODECS_MAX_DECODER_MEMORY;
}

ImageCodecsOptions decode_options_resolve(const ImageCodecsOptions *options) {
    ImageCodecsOptions resolved;
    image_codecs_default_options(&resolved);
    if (options != NULL) {
        if (options->max_pixels != 0) {
            resolved.max_pixels = options->max_pixels;
        }
        if (options->max_decoder_memory != 0) {
            resolved.max_decoder_memory = options->max_decoder_memory;
        }
        resolved.allow_truncated = options->allow_truncated != 0;
        resolved.header_only = options->header_only != 0;
        resolved.output = options->output;
        resolved.output_capacity = options->output_capacity;
        resolved.keep_rows = options->keep_rows;
        resolved.keep_rows_count = options->keep_rows_count;
        resolved.keep_columns = options->keep_columns;
        resolved.keep_columns_count = options->keep_columns_count;
    }
    return resolved;
}

void decode_result_note_recovery(ImageCodecsResult *result, const char *format, ...) {
    result->recovered = 1;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(result->warning, sizeof result->warning, format, arguments);
    va_end(arguments);
}

int decode_result_allocate(ImageCodecsResult *result, unsigned long width, unsigned long height,
                           const ImageCodecsOptions *options, const char *format_name) {
    unsigned long max_pixels = options->max_pixels;
    if (width == 0 || height == 0) {
        decode_result_fail(result, IMAGE_CODECS_CORRUPT, "%s header gives an empty image (%lu x %lu pixels)",
                           format_name, width, height);
        return 0;
    }
    /* Side check first so that width * height below cannot overflow an unsigned long. */
    if (width > IMAGE_CODECS_MAX_SIDE || height > IMAGE_CODECS_MAX_SIDE ||
        width * height > max_pixels) {
        decode_result_fail(result, IMAGE_CODECS_TOO_LARGE,
                           "%s image too large: %lu x %lu pixels (limit %d per side and %lu pixels)",
                           format_name, width, height, IMAGE_CODECS_MAX_SIDE, max_pixels);
        return 0;
    }
    if (options->header_only) {
        result->width = (int)width;
        result->height = (int)height;
        return 0;
    }
    if (options->keep_rows != NULL || options->keep_columns != NULL) {
        result->width = (int)width;
        result->height = (int)height;
        return 1; /* row_sampler_start checks the masks and the output */
    }
    size_t needed = (size_t)width * height * 3;
    if (options->output != NULL) {
        if (options->output_capacity < needed) {
            decode_result_fail(result, IMAGE_CODECS_INVALID_ARGUMENT,
                               "output buffer of %zu bytes is too small for a %lu x %lu %s image", options->output_capacity,
                               width, height, format_name);
            return 0;
        }
        result->pixels = options->output;
        result->caller_owns_pixels = 1;
        result->width = (int)width;
        result->height = (int)height;
        return 1;
    }
    result->pixels = malloc(needed);
    if (result->pixels == NULL) {
        decode_result_fail(result, IMAGE_CODECS_OUT_OF_MEMORY, "out of memory for a %lu x %lu %s image",
                           width, height, format_name);
        return 0;
    }
    result->width = (int)width;
    result->height = (int)height;
    return 1;
}

void image_codecs_result_free(ImageCodecsResult *result) {
    if (result == NULL) {
        return;
    }
    release_pixels(result);
    decode_result_reset(result);
}

/* Numbers the kept entries of a mask: slot[i] is i's place among the kept ones, or -1. */
static long *number_kept(const unsigned char *mask, unsigned long count, size_t *kept) {
    long *slot = malloc((size_t)count * sizeof *slot);
    if (slot == NULL) {
        return NULL;
    }
    size_t next = 0;
    for (unsigned long i = 0; i < count; i++) {
        slot[i] = mask[i] ? (long)next++ : -1;
    }
    *kept = next;
    return slot;
}

unsigned long row_sampler_table_bytes(unsigned long width, unsigned long height) {
    return sizeof(long) * (height + width) + sizeof(unsigned long) * width;
}

int row_sampler_start(RowSampler *sampler, ImageCodecsResult *result, const ImageCodecsOptions *options,
                      unsigned long width, unsigned long height) {
    memset(sampler, 0, sizeof *sampler);
    if (options->keep_rows == NULL && options->keep_columns == NULL) {
        return 1;
    }
    if (options->keep_rows == NULL || options->keep_columns == NULL || options->keep_rows_count != height ||
        options->keep_columns_count != width || options->output == NULL) {
        decode_result_fail(result, IMAGE_CODECS_INVALID_ARGUMENT,
                           "sampled decoding needs both masks, sized %lu rows x %lu columns, and an output buffer",
                           height, width);
        return 0;
    }
    size_t kept_rows = 0;
    sampler->row_slot = number_kept(options->keep_rows, height, &kept_rows);
    sampler->column_slot = number_kept(options->keep_columns, width, &sampler->kept_columns);
    sampler->kept_x = malloc((sampler->kept_columns ? sampler->kept_columns : 1) * sizeof *sampler->kept_x);
    if (sampler->row_slot == NULL || sampler->column_slot == NULL || sampler->kept_x == NULL) {
        row_sampler_free(sampler);
        decode_result_fail(result, IMAGE_CODECS_OUT_OF_MEMORY, "out of memory (sampling tables)");
        return 0;
    }
    size_t needed = kept_rows * sampler->kept_columns * 3;
    if (needed == 0 || options->output_capacity < needed) {
        row_sampler_free(sampler);
        decode_result_fail(result, IMAGE_CODECS_INVALID_ARGUMENT,
                           "output buffer of %zu bytes does not fit %zu kept rows x %zu kept columns",
                           options->output_capacity, kept_rows, sampler->kept_columns);
        return 0;
    }
    for (unsigned long x = 0; x < width; x++) {
        if (sampler->column_slot[x] >= 0) {
            sampler->kept_x[sampler->column_slot[x]] = x;
        }
    }
    sampler->kept_x_contiguous =
        sampler->kept_columns > 0 &&
        sampler->kept_x[sampler->kept_columns - 1] - sampler->kept_x[0] + 1 == sampler->kept_columns;
    sampler->active = 1;
    sampler->width = width;
    sampler->output = options->output;
    if (options->allow_truncated) {
        memset(sampler->output, 0, needed);
    }
    result->pixels = options->output;
    result->caller_owns_pixels = 1;
    return 1;
}

unsigned char *row_sampler_direct_row(const RowSampler *sampler, unsigned long y) {
    long row = sampler->row_slot[y];
    if (row < 0 || sampler->kept_columns != sampler->width) {
        return NULL;
    }
    return sampler->output + (size_t)row * sampler->width * 3;
}

void row_sampler_put(const RowSampler *sampler, unsigned long y, const unsigned char *rgb, unsigned long count,
                     unsigned long x0, unsigned long step) {
    long row = sampler->row_slot[y];
    if (row < 0) {
        return;
    }
    unsigned char *out = sampler->output + (size_t)row * sampler->kept_columns * 3;
    if (x0 == 0 && step == 1 && count == sampler->width) {
        /* A whole row: copy the kept pixels, in one go when they are one run (always so when the crop
         * reads a photo smaller than itself), else one by one from the list. */
        if (sampler->kept_x_contiguous) {
            const unsigned char *from = rgb + (size_t)sampler->kept_x[0] * 3;
            if (out != from) {
                memmove(out, from, sampler->kept_columns * 3);
            }
            return;
        }
        for (size_t k = 0; k < sampler->kept_columns; k++) {
            const unsigned char *pixel = rgb + (size_t)sampler->kept_x[k] * 3;
            out[3 * k] = pixel[0];
            out[3 * k + 1] = pixel[1];
            out[3 * k + 2] = pixel[2];
        }
        return;
    }
    unsigned long x = x0;
    for (unsigned long i = 0; i < count && x < sampler->width; i++, x += step) {
        long column = sampler->column_slot[x];
        if (column >= 0) {
            memcpy(out + (size_t)column * 3, rgb + (size_t)i * 3, 3);
        }
    }
}

void row_sampler_free(RowSampler *sampler) {
    free(sampler->kept_x);
    free(sampler->row_slot);
    free(sampler->column_slot);
    memset(sampler, 0, sizeof *sampler);
}
