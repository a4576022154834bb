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

/* Records that damaged data was accepted because the caller allowed it: sets `recovered` and makes
 * `warning` say what was wrong (replacing any milder warning noted before). */
void decode_result_note_recovery(ImageCodecsResult *result, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
