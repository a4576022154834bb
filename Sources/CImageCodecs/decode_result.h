#ifndef IMAGE_CODECS_DECODE_RESULT_H
#define IMAGE_CODECS_DECODE_RESULT_H

/* Helpers shared by the JPEG and PNG decoders for filling an ImageCodecsResult. Private to the
 * module (this header is not under include/). */

#include "image_codecs.h"

/* Clears every field, leaving status OK and both messages empty. */
void decode_result_reset(ImageCodecsResult *result);

/* Records a failure: frees any pixels (unless the caller owns them), zeroes the size, sets status
 * and a printf-style message (truncated to fit the buffer). */
void decode_result_fail(ImageCodecsResult *result, ImageCodecsStatus status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Keeps the first recoverable warning only: later ones are usually consequences of the first. */
void decode_result_note_warning(ImageCodecsResult *result, const char *text);

/* The options a decoder should use: *options with zeros replaced by the defaults, or the
 * defaults when options is NULL. */
ImageCodecsOptions decode_options_resolve(const ImageCodecsOptions *options);

/* Checks header dimensions against IMAGE_CODECS_MAX_SIDE and options->max_pixels, then points
 * result->pixels at width*height*3 bytes: options->output, or malloc'd memory. Returns 1 when the
 * decoder should go on to the pixels; 0 when it should stop: on failure, with the status and message
 * filled in (naming format_name, e.g. "JPEG"), or with status OK and only the size set when
 * options->header_only. */
int decode_result_allocate(ImageCodecsResult *result, unsigned long width, unsigned long height,
                           const ImageCodecsOptions *options, const char *format_name);

/* Sampled decoding (options->keep_rows / keep_columns): where each stored row and column goes in
 * the packed output. Filled by row_sampler_start; the decoders hand it rows as they come. */
typedef struct RowSampler {
    int active;              /* 0: whole-image decoding, the fields below are unused */
    unsigned long width;     /* of the whole image */
    long *row_slot;          /* per stored row: its row in the output, or -1 (malloc'd) */
    long *column_slot;       /* per stored column: its column in the output, or -1 (malloc'd) */
    size_t kept_columns;
    unsigned long *kept_x;   /* the kept columns, ascending (malloc'd) */
    int kept_x_contiguous;   /* they are one run of columns: a whole row's kept pixels are one memcpy */
    unsigned char *output;   /* kept rows x kept_columns x 3 bytes, the caller's */
} RowSampler;

/* Bytes of the sampler's tables for a width x height image (a slot per row and column, the kept
 * columns' list), which the decoders count in result->decoder_memory. */
unsigned long row_sampler_table_bytes(unsigned long width, unsigned long height);

/* Called by a decoder once decode_result_allocate said go on: sets the sampler up when the options
 * ask for sampled decoding (checking the masks against the image size and the output's capacity),
 * leaves it inactive otherwise. Returns 0 after recording a failure in result. The output is zeroed
 * when damaged data may be accepted, so that rows never delivered are black. */
int row_sampler_start(RowSampler *sampler, ImageCodecsResult *result, const ImageCodecsOptions *options,
                      unsigned long width, unsigned long height);

/* Stored row y of the image, `count` RGB pixels that belong at columns x0, x0 + step, ... (a whole
 * row: x0 0, step 1; an Adam7 pass row: the pass's first column and column step). */
void row_sampler_put(const RowSampler *sampler, unsigned long y, const unsigned char *rgb, unsigned long count,
                     unsigned long x0, unsigned long step);

/* Where stored row y goes when every column is kept, so a decoder can write it there directly (the
 * common case of a photo smaller than what the crop reads); NULL when the row is not kept or not
 * every column is. */
unsigned char *row_sampler_direct_row(const RowSampler *sampler, unsigned long y);

void row_sampler_free(RowSampler *sampler);

/* Records that damaged data was accepted because the caller allowed it: sets `recovered` and makes
 * `warning` say what was wrong (replacing any milder warning noted before). */
void decode_result_note_recovery(ImageCodecsResult *result, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
