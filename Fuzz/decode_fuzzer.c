/*
 * libFuzzer harness for the C decoders (Sources/CImageCodecs). Built twice by Scripts/fuzz, with
 * FUZZ_PNG defined or not, as jpeg_decode_fuzzer and png_decode_fuzzer.
 *
 * Each input is decoded three times: with the default options (what `shufflenet classify` uses);
 * header-only and then into a caller-owned buffer of exactly the size the header gave (the Swift
 * decoder's path for upright images); and with allow_truncated, which walks libjpeg's and libpng's
 * recovery paths. The later passes use a smaller pixel limit so that headers claiming huge images
 * do not make every run slow; the limit itself is checked by the first pass. Any success must describe a buffer of exactly width * height * 3
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
