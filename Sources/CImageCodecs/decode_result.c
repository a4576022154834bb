#include "decode_result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void decode_result_reset(ImageCodecsResult *result) {
    memset(result, 0, sizeof *result);
    result->status = IMAGE_CODECS_OK;
}

void decode_result_fail(ImageCodecsResult *result, ImageCodecsStatus status, const char *format, ...) {
    free(result->pixels);
    result->pixels = NULL;
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

int decode_result_allocate(ImageCodecsResult *result, unsigned long width, unsigned long height,
                           const char *format_name) {
    if (width == 0 || height == 0) {
        decode_result_fail(result, IMAGE_CODECS_CORRUPT, "%s header gives an empty image (%lu x %lu pixels)",
                           format_name, width, height);
        return 0;
    }
    /* Side check first so that width * height below cannot overflow an unsigned long. */
    if (width > IMAGE_CODECS_MAX_SIDE || height > IMAGE_CODECS_MAX_SIDE ||
        width * height > IMAGE_CODECS_MAX_PIXELS) {
        decode_result_fail(result, IMAGE_CODECS_TOO_LARGE,
                           "%s image too large: %lu x %lu pixels (limit %d per side and %lu pixels)",
                           format_name, width, height, IMAGE_CODECS_MAX_SIDE, IMAGE_CODECS_MAX_PIXELS);
        return 0;
    }
    result->pixels = malloc(width * height * 3);
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
    free(result->pixels);
    decode_result_reset(result);
}
