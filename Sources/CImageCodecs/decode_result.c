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
