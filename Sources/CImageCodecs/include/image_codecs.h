#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H

/*
 * Decoding JPEG and PNG files from memory to 8-bit RGB, with every libjpeg/libpng error turned
 * into a status code and a message instead of a longjmp into Swift (which Swift cannot survive)
 * or a line on stderr.
 *
 * Usage:
 *     ImageCodecsResult result = {0};
 *     image_codecs_decode_jpeg(bytes, count, &result);
 *     if (result.status == IMAGE_CODECS_OK) { use result.width, result.height, result.pixels }
 *     else { report result.message }
 *     image_codecs_result_free(&result);   // always, on success and on failure
 */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What went wrong, coarse enough for a caller to choose a reaction. The message says the rest. */
typedef enum ImageCodecsStatus {
    IMAGE_CODECS_OK = 0,
    IMAGE_CODECS_INVALID_ARGUMENT = 1, /* NULL or empty buffer passed in */
    IMAGE_CODECS_UNSUPPORTED = 2,      /* valid file that uses a feature we do not decode (12-bit JPEG, ...) */
    IMAGE_CODECS_CORRUPT = 3,          /* the bytes break the format's rules */
    IMAGE_CODECS_TRUNCATED = 4,        /* the data stops before the image is complete */
    IMAGE_CODECS_TOO_LARGE = 5,        /* header dimensions over the limits below; nothing was allocated */
    IMAGE_CODECS_OUT_OF_MEMORY = 6
} ImageCodecsStatus;

/* Limits checked against the header before any pixel memory is allocated. The pixel limit is
 * Pillow's decompression-bomb threshold (about 256 MiB of RGB); the side limit is the JPEG maximum. */
#define IMAGE_CODECS_MAX_SIDE 65535
#define IMAGE_CODECS_MAX_PIXELS 89478485UL

#define IMAGE_CODECS_MESSAGE_CAPACITY 256

typedef struct ImageCodecsResult {
    ImageCodecsStatus status;
    int width;
    int height;
    /* width * height * 3 bytes, RGB interleaved, rows top to bottom, no padding. malloc'd;
     * NULL unless status is IMAGE_CODECS_OK. Release with image_codecs_result_free. */
    unsigned char *pixels;
    /* NUL-terminated, empty on success. On failure: what happened, e.g.
     * "truncated JPEG data (Premature end of JPEG file)". */
    char message[IMAGE_CODECS_MESSAGE_CAPACITY];
    /* Set on success when the library warned about something it could recover from
     * (e.g. "iCCP: known incorrect sRGB profile"); the first such warning, for logging only. */
    char warning[IMAGE_CODECS_MESSAGE_CAPACITY];
} ImageCodecsResult;

/* Decode a whole JPEG file held in memory. Grayscale becomes RGB; Adobe CMYK/YCCK is converted to
 * RGB. A truncated or corrupt entropy-coded segment is an error, not a grey-filled image.
 * Overwrites every field of *result (free an earlier result first). */
void image_codecs_decode_jpeg(const unsigned char *data, size_t size, ImageCodecsResult *result);

/* Decode a whole PNG file held in memory. Palette, grayscale, 1/2/4/16-bit and alpha variants all
 * become 8-bit RGB (16-bit keeps the high byte, alpha is dropped, not composited); Adam7 interlacing
 * is handled. A file cut short anywhere before IEND is an error. Overwrites every field of *result
 * (free an earlier result first). */
void image_codecs_decode_png(const unsigned char *data, size_t size, ImageCodecsResult *result);

/* Frees the pixels (if any) and clears the result. Safe to call twice and on a zeroed result. */
void image_codecs_result_free(ImageCodecsResult *result);

#ifdef __cplusplus
}
#endif

#endif /* IMAGE_CODECS_H */
