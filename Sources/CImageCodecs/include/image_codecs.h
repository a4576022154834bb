#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H

/*
 * Decoding JPEG and PNG files from memory to 8-bit RGB, with every libjpeg/libpng error turned
 * into a status code and a message instead of a longjmp into Swift (which Swift cannot survive)
 * or a line on stderr.
 *
 * Usage:
 *     ImageCodecsOptions options;
 *     image_codecs_default_options(&options);      // then adjust limits if needed
 *     ImageCodecsResult result = {0};
 *     image_codecs_decode_jpeg(bytes, count, &options, &result);
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

/* Limits checked against the header before any pixel memory is allocated. The default pixel limit
 * is Pillow's decompression-bomb threshold (about 256 MiB of RGB); the side limit is the JPEG
 * maximum and cannot be raised. */
#define IMAGE_CODECS_MAX_SIDE 65535
#define IMAGE_CODECS_MAX_PIXELS 89478485UL
/* Default cap on libjpeg's own working memory (coefficient buffers of progressive and multi-scan
 * files, about 3 bytes per pixel for 4:2:0 and 6 for 4:4:4), on top of the RGB output. Enough for
 * any 4:2:0 photo under the pixel limit and for 4:4:4 ones up to about 60 M pixels; a file whose
 * header asks for more is refused as too large instead of being given the memory. */
#define IMAGE_CODECS_MAX_DECODER_MEMORY (384UL << 20)
/* Cap on the memory libpng may allocate for one ancillary chunk, compressed or not. Ancillary
 * chunks are skipped unread (nothing in them changes the RGB pixels we produce: see
 * png_decoder.c), so this only backs up that rule. */
#define IMAGE_CODECS_MAX_PNG_CHUNK_BYTES (1UL << 20)

/* What the caller may tune per decode. Fill with image_codecs_default_options, then adjust. */
typedef struct ImageCodecsOptions {
    /* Refuse images with more pixels than this, from the header, before allocating. Clamped to
     * 65535 x 65535; 0 means IMAGE_CODECS_MAX_PIXELS. */
    unsigned long max_pixels;
    /* Cap on the decoder library's own memory (bytes): libjpeg's buffers, and every allocation
     * libpng makes. 0 means IMAGE_CODECS_MAX_DECODER_MEMORY. */
    unsigned long max_decoder_memory;
    /* 0 (default): damaged or truncated image data is an error. 1: keep what the library can
     * recover (libjpeg fills missing blocks with grey, missing PNG rows are black) and say so in
     * `warning`, with `recovered` set. Broken headers are errors either way. */
    int allow_truncated;
    /* 1: stop after the header; the result has status OK, width and height, and no pixels. Limits
     * are still checked. For sizing a caller-owned output buffer. */
    int header_only;
    /* When not NULL, pixels are written here instead of into malloc'd memory: the caller owns it,
     * and it must hold width * height * 3 bytes or decoding fails with INVALID_ARGUMENT. Saves
     * a copy of the largest buffer involved. result->pixels then points here on success. */
    unsigned char *output;
    size_t output_capacity;
    /* Sampled decoding. When both masks are set (one byte per stored row / column of the image,
     * nonzero = keep, `keep_rows_count` must equal the height and `keep_columns_count` the width),
     * only the kept pixels are written, packed row by row into `output` (which must then be set and
     * hold kept rows x kept columns x 3 bytes). The image is decoded row by row through one
     * row-sized buffer, never whole, so a 60-megapixel photo costs a row, not 180 MB. Adam7 PNGs are
     * read pass by pass and each pass's pixels are put in place, so they need no whole image either.
     * result->width and height stay those of the whole image. */
    const unsigned char *keep_rows;
    size_t keep_rows_count;
    const unsigned char *keep_columns;
    size_t keep_columns_count;
} ImageCodecsOptions;

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
    /* 1 when allow_truncated let a damaged or truncated file through: some pixels are made up and
     * `warning` says why. Always 0 with the default options. */
    int recovered;
    /* 1 when pixels point into options->output, which image_codecs_result_free leaves alone. */
    int caller_owns_pixels;
    /* Set by a header_only pass: an upper bound on what the library itself (libjpeg's coefficient
     * and row buffers, libpng's row buffers and inflate state) will allocate to decode the pixels,
     * pixel output not included. Passing it as options->max_decoder_memory to the decode that
     * follows makes it a hard cap: libjpeg refuses more for its buffers, and every libpng
     * allocation goes through a counting allocator that fails past it. */
    unsigned long decoder_memory;
} ImageCodecsResult;

/* The defaults described above: Pillow's pixel limit, the memory cap, damaged data refused. */
void image_codecs_default_options(ImageCodecsOptions *options);

/* Decode a whole JPEG file held in memory. Baseline, progressive, arithmetic-coded and restart
 * intervals are decoded; grayscale becomes RGB; Adobe CMYK/YCCK is converted to RGB. 12-bit and
 * lossless files are reported as IMAGE_CODECS_UNSUPPORTED (this libjpeg build is 8-bit only). A
 * truncated or corrupt entropy-coded segment is an error, not a grey-filled image, unless
 * options->allow_truncated. options may be NULL (defaults). Overwrites every field of *result (free
 * an earlier result first). */
void image_codecs_decode_jpeg(const unsigned char *data, size_t size, const ImageCodecsOptions *options,
                              ImageCodecsResult *result);

/* Decode a whole PNG file held in memory. Palette, grayscale, 1/2/4/16-bit and alpha variants all
 * become 8-bit RGB (16-bit keeps the high byte, i.e. floor(v / 256), as Pillow and OpenCV do;
 * alpha and tRNS are dropped, not composited, as Pillow's convert("RGB") does); Adam7 interlacing
 * is handled. A CRC error in a critical chunk is an error (a damaged ancillary chunk is skipped with
 * a warning). A file cut short anywhere before IEND is an error unless options->allow_truncated.
 * options may be NULL (defaults). Overwrites every field of *result (free an earlier result first). */
void image_codecs_decode_png(const unsigned char *data, size_t size, const ImageCodecsOptions *options,
                             ImageCodecsResult *result);

/* Frees the pixels (if any, unless the caller owns them) and clears the result. Safe to call twice
 * and on a zeroed result. */
void image_codecs_result_free(ImageCodecsResult *result);

/* Encodes width x height 8-bit RGB pixels (rows top to bottom, no padding) as a PNG in memory.
 * On success returns IMAGE_CODECS_OK and sets *png (malloc'd, release with
 * image_codecs_encoded_free) and *png_size; otherwise returns a failure status, leaves *png NULL
 * and writes a NUL-terminated reason into message (IMAGE_CODECS_MESSAGE_CAPACITY bytes). */
ImageCodecsStatus image_codecs_encode_png(const unsigned char *pixels, int width, int height,
                                          unsigned char **png, size_t *png_size, char *message);

/* Frees a buffer returned by image_codecs_encode_png. Accepts NULL. */
void image_codecs_encoded_free(unsigned char *png);

/* Inflates a zlib stream (RFC 1950) into out, writing at most out_capacity bytes, for metadata such
 * as a compressed PNG iTXt XMP packet. Lenient the way Python's zlib.decompressobj().decompress is
 * (so the same packets are read as by Pillow): a stream cut short gives what was inflated so far,
 * bytes after the end of the stream are ignored. Returns IMAGE_CODECS_OK with *out_size set,
 * IMAGE_CODECS_CORRUPT for data zlib rejects, IMAGE_CODECS_TOO_LARGE when the output would not fit
 * (*out_size is then out_capacity), IMAGE_CODECS_INVALID_ARGUMENT for NULL pointers. */
ImageCodecsStatus image_codecs_inflate(const unsigned char *data, size_t size, unsigned char *out,
                                       size_t out_capacity, size_t *out_size);

/* Process-wide: makes glibc's malloc map blocks of 4 MiB and more on their own and unmap them when
 * freed, and trim its heaps above 8 MiB, so that freed decoding buffers leave resident memory at once
 * instead of staying cached in every thread's arena. Does nothing with other C libraries. */
void image_codecs_return_freed_memory_promptly(void);

/* Process-wide: hands every whole free page of glibc's heaps back to the system now (malloc_trim), e.g. the
 * holes a large file read leaves after it is parsed. Does nothing with other C libraries. */
void image_codecs_release_free_memory(void);

#ifdef __cplusplus
}
#endif

#endif /* IMAGE_CODECS_H */
