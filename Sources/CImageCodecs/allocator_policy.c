/* See image_codecs_return_freed_memory_promptly in image_codecs.h. */
#include "image_codecs.h"

#include <stdlib.h> /* defines __GLIBC__ on glibc (through features.h) */

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void image_codecs_return_freed_memory_promptly(void) {
#if defined(__GLIBC__)
    /* Fixed values also turn off glibc's dynamic threshold adjustment. */
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
#endif
}

void image_codecs_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
