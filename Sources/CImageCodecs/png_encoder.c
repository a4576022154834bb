/*
 * 8-bit RGB to a PNG file in memory with libpng, for writing preview crops. Same error discipline as
 * the decoders: libpng's error callback longjmps back here, nothing is printed.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "image_codecs.h"

/* Owned by image_codecs_encode_png, not by the function that calls setjmp, so its contents are
 * reliable after the longjmp. */
typedef struct PngEncodeState {
    png_structp png;
    png_infop info;
    png_bytep *rows;
    unsigned char *output; /* grows as libpng writes */
    size_t size;
    size_t capacity;
    int out_of_memory;
    char text[IMAGE_CODECS_MESSAGE_CAPACITY];
} PngEncodeState;

static void png_write_to_memory(png_structp png, png_bytep bytes, size_t count) {
    PngEncodeState *state = png_get_io_ptr(png);
    if (count > state->capacity - state->size) {
        size_t wanted = state->capacity * 2 > state->size + count ? state->capacity * 2 : state->size + count;
        unsigned char *grown = realloc(state->output, wanted);
        if (grown == NULL) {
            state->out_of_memory = 1;
            png_error(png, "out of memory for the encoded PNG");
        }
        state->output = grown;
        state->capacity = wanted;
    }
    memcpy(state->output + state->size, bytes, count);
    state->size += count;
}

static void png_flush_nothing(png_structp png) {
    (void)png; /* memory needs no flushing */
}

static void png_encode_error(png_structp png, png_const_charp text) {
    PngEncodeState *state = png_get_error_ptr(png);
    snprintf(state->text, sizeof state->text, "%s", text);
    png_longjmp(png, 1);
}

static void png_encode_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text; /* nothing the writer can warn about changes the pixels written */
}

static ImageCodecsStatus encode_guarded(PngEncodeState *state, const unsigned char *pixels, int width, int height) {
    if (setjmp(png_jmpbuf(state->png))) {
        return state->out_of_memory ? IMAGE_CODECS_OUT_OF_MEMORY : IMAGE_CODECS_INVALID_ARGUMENT;
    }
    png_set_write_fn(state->png, state, png_write_to_memory, png_flush_nothing);
    png_set_IHDR(state->png, state->info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(state->png, state->info);
    size_t row_bytes = (size_t)width * 3;
    for (int y = 0; y < height; y++) {
        /* libpng's API takes non-const rows but does not modify them when writing. */
        state->rows[y] = (png_bytep)(pixels + (size_t)y * row_bytes);
    }
    png_write_image(state->png, state->rows);
    png_write_end(state->png, NULL);
    return IMAGE_CODECS_OK;
}

ImageCodecsStatus image_codecs_encode_png(const unsigned char *pixels, int width, int height,
                                          unsigned char **png, size_t *png_size, char *message) {
    if (png == NULL || png_size == NULL || message == NULL) {
        return IMAGE_CODECS_INVALID_ARGUMENT;
    }
    *png = NULL;
    *png_size = 0;
    message[0] = '\0';
    if (pixels == NULL || width <= 0 || height <= 0 || width > IMAGE_CODECS_MAX_SIDE || height > IMAGE_CODECS_MAX_SIDE) {
        snprintf(message, IMAGE_CODECS_MESSAGE_CAPACITY, "cannot encode a %d x %d image as PNG", width, height);
        return IMAGE_CODECS_INVALID_ARGUMENT;
    }
    PngEncodeState state;
    memset(&state, 0, sizeof state);
    ImageCodecsStatus status = IMAGE_CODECS_OUT_OF_MEMORY;
    snprintf(state.text, sizeof state.text, "out of memory setting up libpng");
    state.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, png_encode_error, png_encode_warning);
    if (state.png != NULL) {
        state.info = png_create_info_struct(state.png);
    }
    state.rows = malloc((size_t)height * sizeof *state.rows);
    if (state.png != NULL && state.info != NULL && state.rows != NULL) {
        status = encode_guarded(&state, pixels, width, height);
    }
    png_destroy_write_struct(&state.png, &state.info); /* accepts NULLs */
    free(state.rows);
    if (status != IMAGE_CODECS_OK) {
        free(state.output);
        snprintf(message, IMAGE_CODECS_MESSAGE_CAPACITY, "cannot encode PNG (%s)", state.text);
        return status;
    }
    *png = state.output;
    *png_size = state.size;
    return IMAGE_CODECS_OK;
}

void image_codecs_encoded_free(unsigned char *png) {
    free(png);
}
