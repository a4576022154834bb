/*
 * libFuzzer harness for the C decoders (Sources/CImageCodecs). Built twice by Scripts/fuzz, with
 * FUZZ_PNG defined or not, as jpeg_decode_fuzzer and png_decode_fuzzer.
 *
 * Each input is decoded three times: with the default options (what `shufflenet classify` uses);
 * header-only and then into a caller-owned buffer of exactly the size the header gave (the Swift
 * decoder's path for upright images); and with allow_truncated, which walks libjpeg's and libpng's
 * recovery paths. The later passes use a smaller pixel limit so that headers claiming huge images
 * do not make every run slow; the limit itself is checked by the first pass. A fourth pass decodes
 * only some rows and columns, as the classifier does (decode_sampled). Any success must describe a buffer of exactly width * height * 3
 * bytes, which the harness reads in full so ASan sees an out-of-bounds or uninitialised size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image_codecs.h"

#ifdef FUZZ_PNG
#define DECODE image_codecs_decode_png
#else
#define DECODE image_codecs_decode_jpeg
#endif

static void check_result(const ImageCodecsResult *result, unsigned long max_pixels) {
    if (result->status != IMAGE_CODECS_OK) {
        if (result->pixels != NULL || result->message[0] == '\0' ||
            memchr(result->message, '\0', sizeof result->message) == NULL) {
            abort(); /* failures carry a message and no pixels */
        }
        return;
    }
    if (result->pixels == NULL || result->width <= 0 || result->height <= 0 ||
        (unsigned long)result->width * (unsigned long)result->height > max_pixels) {
        abort();
    }
    size_t count = (size_t)result->width * (size_t)result->height * 3;
    volatile unsigned sum = 0;
    for (size_t i = 0; i < count; i += 61) {
        sum += result->pixels[i];
    }
    sum += result->pixels[count - 1];
}

/* The classifier's path: header, then only some rows and columns (picked from the data so the fuzzer
 * can vary them), with the decoder library capped at what the header said it needs. The packed
 * output is its own allocation, so ASan catches a pixel put one place too far. */
static void decode_sampled(const uint8_t *data, size_t size, const ImageCodecsOptions *base) {
    ImageCodecsOptions options = *base;
    ImageCodecsResult result;
    options.header_only = 1;
    DECODE(data, size, &options, &result);
    if (result.status != IMAGE_CODECS_OK) {
        image_codecs_result_free(&result);
        return;
    }
    unsigned long width = (unsigned long)result.width, height = (unsigned long)result.height;
    unsigned long memory = result.decoder_memory;
    image_codecs_result_free(&result);
    if (memory == 0) {
        abort(); /* a header pass always says what decoding needs */
    }
    unsigned step = 1 + (size > 0 ? data[size / 2] % 7 : 0);
    unsigned char *rows = malloc(height), *columns = malloc(width);
    size_t kept_rows = 0, kept_columns = 0;
    for (unsigned long y = 0; y < height; y++) {
        rows[y] = (y % step == 0);
        kept_rows += rows[y];
    }
    for (unsigned long x = 0; x < width; x++) {
        columns[x] = (x % (step + 1) == 1 || width == 1);
        kept_columns += columns[x];
    }
    size_t capacity = kept_rows * kept_columns * 3;
    unsigned char *output = malloc(capacity ? capacity : 1);
    options.header_only = 0;
    options.max_decoder_memory = memory;
    options.keep_rows = rows;
    options.keep_rows_count = height;
    options.keep_columns = columns;
    options.keep_columns_count = width;
    options.output = output;
    options.output_capacity = capacity;
    DECODE(data, size, &options, &result);
    if (result.status == IMAGE_CODECS_OK) {
        if (result.pixels != output || capacity == 0) {
            abort();
        }
        volatile unsigned sum = 0;
        for (size_t i = 0; i < capacity; i += 7) {
            sum += output[i];
        }
    }
    image_codecs_result_free(&result);
    free(output);
    free(rows);
    free(columns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ImageCodecsOptions options;
    image_codecs_default_options(&options);
    ImageCodecsResult result;
    DECODE(data, size, &options, &result);
    check_result(&result, options.max_pixels);
    image_codecs_result_free(&result);

    options.max_pixels = 1UL << 22;
    options.header_only = 1;
    DECODE(data, size, &options, &result);
    if (result.status == IMAGE_CODECS_OK) {
        if (result.pixels != NULL) {
            abort(); /* header-only decodes allocate nothing */
        }
        size_t capacity = (size_t)result.width * (size_t)result.height * 3;
        /* Its own allocation, so ASan catches a single byte written past the end. */
        unsigned char *output = malloc(capacity);
        options.header_only = 0;
        options.output = output;
        options.output_capacity = capacity;
        image_codecs_result_free(&result);
        DECODE(data, size, &options, &result);
        check_result(&result, options.max_pixels);
        if (result.status == IMAGE_CODECS_OK && result.pixels != output) {
            abort();
        }
        image_codecs_result_free(&result); /* must not free the caller's buffer */
        free(output);
        options.output = NULL;
        options.output_capacity = 0;
        decode_sampled(data, size, &options);
    } else {
        image_codecs_result_free(&result);
    }
    options.header_only = 0;

    options.allow_truncated = 1;
    DECODE(data, size, &options, &result);
    check_result(&result, options.max_pixels);
    image_codecs_result_free(&result);
    return 0;
}
