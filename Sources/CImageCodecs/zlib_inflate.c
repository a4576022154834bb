/*
 * Bounded zlib inflation for compressed metadata chunks. Lives in C because zlib's z_stream is a
 * C struct with pointers into caller memory; the Swift side only sees a status and a byte count.
 */
#include <limits.h>
#include <string.h>

#include <zlib.h>

#include "image_codecs.h"

ImageCodecsStatus image_codecs_inflate(const unsigned char *data, size_t size, unsigned char *out,
                                       size_t out_capacity, size_t *out_size) {
    if (out_size == NULL || (data == NULL && size > 0) || (out == NULL && out_capacity > 0)) {
        return IMAGE_CODECS_INVALID_ARGUMENT;
    }
    *out_size = 0;
    /* zlib counts in uInt; metadata chunks are far smaller, larger requests are refused. */
    if (size > UINT_MAX || out_capacity > UINT_MAX) return IMAGE_CODECS_INVALID_ARGUMENT;
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit(&stream) != Z_OK) return IMAGE_CODECS_OUT_OF_MEMORY;
    stream.next_in = (Bytef *)data; /* zlib does not write through next_in */
    stream.avail_in = (uInt)size;
    stream.next_out = out;
    stream.avail_out = (uInt)out_capacity;
    /* One call with all the input: it stops at the end of the stream, when the input runs out, or
     * when the output is full. */
    int code = inflate(&stream, Z_NO_FLUSH);
    *out_size = out_capacity - stream.avail_out;
    inflateEnd(&stream);
    switch (code) {
    case Z_STREAM_END:
        return IMAGE_CODECS_OK;
    case Z_OK:
    case Z_BUF_ERROR:
        /* Input left over with the output full means the text is bigger than allowed; no input
         * left means a stream cut short, whose beginning Python's zlib (and so Pillow) keeps. */
        return (stream.avail_out == 0 && stream.avail_in > 0) ? IMAGE_CODECS_TOO_LARGE : IMAGE_CODECS_OK;
    case Z_MEM_ERROR:
        return IMAGE_CODECS_OUT_OF_MEMORY;
    default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
        return IMAGE_CODECS_CORRUPT;
    }
}
