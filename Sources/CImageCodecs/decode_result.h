#ifndef IMAGE_CODECS_DECODE_RESULT_H
#define IMAGE_CODECS_DECODE_RESULT_H

/* Helpers shared by the JPEG and PNG decoders for filling an ImageCodecsResult. Private to the
 * module (this header is not under include/). */

#include "image_codecs.h"

/* Clears every field, leaving status OK and both messages empty. */
void decode_result_reset(ImageCodecsResult *result);

/* Records a failure: frees any pixels, zeroes the size, sets status and a printf-style message
 * (truncated to fit the buffer). */
void decode_result_fail(ImageCodecsResult *result, ImageCodecsStatus status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Keeps the first recoverable warning only: later ones are usually consequences of the first. */
void decode_result_note_warning(ImageCodecsResult *result, const char *text);

/* Checks header dimensions against IMAGE_CODECS_MAX_SIDE / IMAGE_CODECS_MAX_PIXELS, then
 * allocates width*height*3 bytes into result->pixels. Returns 1 on success; on failure fills in
 * the status and message (naming format_name, e.g. "JPEG") and returns 0. */
int decode_result_allocate(ImageCodecsResult *result, unsigned long width, unsigned long height,
                           const char *format_name);

#endif
