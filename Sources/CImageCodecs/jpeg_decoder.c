/*
 * JPEG from memory to 8-bit RGB with libjpeg(-turbo).
 *
 * libjpeg reports fatal errors through error_exit, which must never return: we longjmp back to
 * decode_jpeg_guarded. It reports damaged data only as *warnings* and keeps going (a truncated file
 * comes out padded with grey), so the warnings that mean "these pixels are not the file's pixels"
 * are promoted to errors too, unless the caller allowed truncated files; then they are noted as the
 * result's warning.
 */
#include <setjmp.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "decode_result.h"

/* Real progressive files have about 10 scans. Thousands of tiny scans are a known way to make a
 * small file take minutes to decode, so refuse them (libjpeg-turbo's djpeg offers the same guard).
 * Each scan walks every block of its components, about 4 ns per block here, so large images get
 * fewer scans: at most JPEG_SCAN_BLOCK_BUDGET block visits (about 1 s), but always 100 scans. */
enum { JPEG_MAX_SCANS = 1000, JPEG_MIN_SCAN_LIMIT = 100 };
#define JPEG_SCAN_BLOCK_BUDGET 300000000.0

/* Multi-scan files may need up to this many bytes of coefficient buffers per byte of file, beyond a
 * first 32 MiB (see the check in decode_jpeg_guarded): a file under 100 KB then stays under about
 * 60 MB, while a 60 MP progressive photo (180 MB of coefficients) needs only a 0.6 MB file. */
#define JPEG_COEFFICIENT_ALLOWANCE (32.0 * 1048576.0)
#define JPEG_COEFFICIENTS_PER_FILE_BYTE 256

typedef struct JpegErrorManager {
    struct jpeg_error_mgr base; /* first member: libjpeg only knows about this part */
    jmp_buf escape;
    ImageCodecsStatus status; /* of the failure being carried through longjmp */
    char text[JMSG_LENGTH_MAX];
    ImageCodecsResult *result; /* where recoverable warnings are noted */
    int allow_damage;          /* options.allow_truncated: damaged-data warnings do not stop decoding */
} JpegErrorManager;

/* Owned by image_codecs_decode_jpeg, not by the function that calls setjmp, so its contents are
 * reliable after the longjmp (C only guarantees that for objects outside the setjmp caller). */
typedef struct JpegDecodeState {
    struct jpeg_decompress_struct info; /* first member: the progress monitor casts back to the state */
    JpegErrorManager errors;
    struct jpeg_progress_mgr progress;
    int scan_limit; /* set from the frame size once the header is read */
    RowSampler sampler; /* sampled decoding (options.keep_rows / keep_columns) */
} JpegDecodeState;

static ImageCodecsStatus status_for_error(int code) {
    switch (code) {
    case JERR_OUT_OF_MEMORY:
        return IMAGE_CODECS_OUT_OF_MEMORY;
    case JERR_IMAGE_TOO_BIG:
        return IMAGE_CODECS_TOO_LARGE;
    case JERR_INPUT_EOF:
        return IMAGE_CODECS_TRUNCATED;
    case JERR_BAD_PRECISION:      /* 12-bit JPEGs: this libjpeg build is 8-bit only */
    case JERR_CONVERSION_NOTIMPL: /* e.g. 2-component images */
    case JERR_NOTIMPL:            /* "Requested features are incompatible" */
    case JERR_ARITH_NOTIMPL:
    case JERR_SOF_UNSUPPORTED:    /* lossless (SOF3) and hierarchical files */
    case JERR_FRACT_SAMPLE_NOTIMPL: /* legal but unusual sampling ratios, e.g. 3x2 luma over 2x1 chroma */
        return IMAGE_CODECS_UNSUPPORTED;
    default:
        return IMAGE_CODECS_CORRUPT;
    }
}

/* Warnings after which the decoded pixels are made up (grey fill, skipped blocks). Tolerated:
 * JWRN_EXTRANEOUS_DATA (junk bytes between segments, pixels intact; common in real photo sets and
 * accepted by Pillow), JWRN_JFIF_MAJOR, JWRN_ADOBE_XFORM, JWRN_BOGUS_ICC (metadata only). */
static int warning_is_fatal(int code) {
    switch (code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        return 1;
    default:
        return 0;
    }
}

static void escape_with(j_common_ptr info, ImageCodecsStatus status) {
    JpegErrorManager *errors = (JpegErrorManager *)info->err;
    errors->status = status;
    (*info->err->format_message)(info, errors->text);
    longjmp(errors->escape, 1);
}

static void jpeg_error_exit(j_common_ptr info) {
    if (info->err->msg_code == JERR_NO_BACKING_STORE) {
        /* libjpeg's own text ("Backing store not supported") would not tell the user anything. */
        JpegErrorManager *errors = (JpegErrorManager *)info->err;
        errors->status = IMAGE_CODECS_TOO_LARGE;
        snprintf(errors->text, sizeof errors->text, "its coefficient buffers need more than the %ld MiB allowed",
                 info->mem->max_memory_to_use >> 20);
        longjmp(errors->escape, 1);
    }
    escape_with(info, status_for_error(info->err->msg_code));
}

static void jpeg_emit_message(j_common_ptr info, int level) {
    if (level >= 0) {
        return; /* trace output, only wanted when debugging libjpeg itself */
    }
    JpegErrorManager *errors = (JpegErrorManager *)info->err;
    info->err->num_warnings++;
    int code = info->err->msg_code;
    if (warning_is_fatal(code)) {
        ImageCodecsStatus status = code == JWRN_JPEG_EOF ? IMAGE_CODECS_TRUNCATED : IMAGE_CODECS_CORRUPT;
        if (!errors->allow_damage) {
            escape_with(info, status);
        }
        /* The first damage is the one worth reporting; the rest usually follow from it. */
        if (!errors->result->recovered) {
            char text[JMSG_LENGTH_MAX];
            (*info->err->format_message)(info, text);
            decode_result_note_recovery(errors->result, "%s (%s), decoded anyway: some pixels are grey fill",
                                        status == IMAGE_CODECS_TRUNCATED ? "truncated JPEG data" : "damaged JPEG data",
                                        text);
        }
        return;
    }
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    decode_result_note_warning(errors->result, text);
}

/* The default prints to stderr; a library embedded in someone's program must not. */
static void jpeg_output_message_nowhere(j_common_ptr info) {
    (void)info;
}

static void jpeg_limit_scans(j_common_ptr info) {
    JpegDecodeState *state = (JpegDecodeState *)info;
    if (state->info.input_scan_number > state->scan_limit) {
        JpegErrorManager *errors = (JpegErrorManager *)info->err;
        errors->status = IMAGE_CODECS_CORRUPT;
        snprintf(errors->text, sizeof errors->text, "more than %d scans for a %u x %u image, too slow to decode",
                 state->scan_limit, state->info.image_width, state->info.image_height);
        longjmp(errors->escape, 1);
    }
}

/* JPEG_MAX_SCANS, lowered for large images as explained at JPEG_SCAN_BLOCK_BUDGET. */
static int scan_limit_for(const struct jpeg_decompress_struct *info) {
    double blocks = 0;
    for (int i = 0; i < info->num_components; i++) {
        blocks += (double)info->comp_info[i].width_in_blocks * (double)info->comp_info[i].height_in_blocks;
    }
    double limit = blocks > 0 ? JPEG_SCAN_BLOCK_BUDGET / blocks : JPEG_MAX_SCANS;
    if (limit > JPEG_MAX_SCANS) {
        return JPEG_MAX_SCANS;
    }
    return limit < JPEG_MIN_SCAN_LIMIT ? JPEG_MIN_SCAN_LIMIT : (int)limit;
}

/* Worst case of what libjpeg allocates to decode the pixels: the whole-image coefficient buffers of
 * a progressive or multi-scan file (one 128-byte block per 8x8 block of each component, padded to
 * the sampling factors, as jdcoefct.c requests them), the row buffers of the main, upsampling and
 * colour stages (a few groups of 8 * max_v_samp_factor rows per component) and our own scanline,
 * plus the sampling tables and the fixed structures. */
/* Bytes of the whole-image coefficient buffers a progressive or multi-scan file needs; 0 for a
 * single-scan file, which is decoded a row of blocks at a time. */
static double jpeg_coefficient_bytes(const struct jpeg_decompress_struct *info) {
    if (!jpeg_has_multiple_scans((j_decompress_ptr)info)) {
        return 0;
    }
    double coefficients = 0;
    for (int i = 0; i < info->num_components; i++) {
        const jpeg_component_info *component = &info->comp_info[i];
        double columns = component->width_in_blocks + component->h_samp_factor - 1;
        double rows = component->height_in_blocks + component->v_samp_factor - 1;
        columns -= (long)columns % component->h_samp_factor;
        rows -= (long)rows % component->v_samp_factor;
        coefficients += columns * rows * sizeof(JBLOCK);
    }
    return coefficients;
}

static unsigned long jpeg_decoder_memory(const struct jpeg_decompress_struct *info) {
    int max_v = 1;
    for (int i = 0; i < info->num_components; i++) {
        if (info->comp_info[i].v_samp_factor > max_v) {
            max_v = info->comp_info[i].v_samp_factor;
        }
    }
    double padded_width = info->image_width + 64.0;
    double rows = padded_width * info->num_components * 8.0 * max_v * 8.0;
    double total = (2 << 20) + jpeg_coefficient_bytes(info) + rows +
                   (double)row_sampler_table_bytes(info->image_width, info->image_height);
    return total > (double)ULONG_MAX / 2 ? ULONG_MAX / 2 : (unsigned long)total;
}

static const char *describe_failure(ImageCodecsStatus status) {
    switch (status) {
    case IMAGE_CODECS_TRUNCATED: return "truncated JPEG data";
    case IMAGE_CODECS_UNSUPPORTED: return "unsupported kind of JPEG";
    case IMAGE_CODECS_TOO_LARGE: return "JPEG image too large";
    case IMAGE_CODECS_OUT_OF_MEMORY: return "out of memory decoding JPEG";
    default: return "invalid JPEG data";
    }
}

/* libjpeg's corrupt-data texts start with this; our own prefix already says so. */
static const char *without_corrupt_prefix(const char *text) {
    static const char prefix[] = "Corrupt JPEG data: ";
    return strncmp(text, prefix, sizeof prefix - 1) == 0 ? text + sizeof prefix - 1 : text;
}

/* Photoshop (the usual source of CMYK JPEGs, always with an Adobe marker) stores CMYK inverted:
 * 255 means no ink. Without the marker the values are taken as plain ink amounts. The naive
 * conversion R = (1 - C)(1 - K) etc. matches what Pillow and browsers do without a colour profile. */
static void cmyk_row_to_rgb(const JSAMPLE *cmyk, unsigned char *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        unsigned k = inverted ? cmyk[3] : 255u - cmyk[3];
        for (int channel = 0; channel < 3; channel++) {
            unsigned paper = inverted ? cmyk[channel] : 255u - cmyk[channel];
            rgb[channel] = (unsigned char)((paper * k + 127u) / 255u);
        }
        cmyk += 4;
        rgb += 3;
    }
}

static void decode_jpeg_guarded(JpegDecodeState *state, const unsigned char *data, size_t size,
                                const ImageCodecsOptions *options, ImageCodecsResult *result) {
    struct jpeg_decompress_struct *info = &state->info;
    info->err = jpeg_std_error(&state->errors.base);
    state->errors.base.error_exit = jpeg_error_exit;
    state->errors.base.emit_message = jpeg_emit_message;
    state->errors.base.output_message = jpeg_output_message_nowhere;
    state->errors.result = result;
    state->errors.allow_damage = options->allow_truncated;
    if (setjmp(state->errors.escape)) {
        const char *text = state->errors.text;
        decode_result_fail(result, state->errors.status, "%s (%s)", describe_failure(state->errors.status),
                           without_corrupt_prefix(text));
        return; /* the caller destroys the decompressor, which frees libjpeg's memory */
    }
    state->scan_limit = JPEG_MAX_SCANS; /* until the frame size is known */
    jpeg_create_decompress(info);
    /* With no temporary files (jmemnobs), working memory beyond this ends in JERR_NO_BACKING_STORE
     * when jpeg_start_decompress sizes the coefficient buffers, before they are allocated. */
    info->mem->max_memory_to_use = (long)options->max_decoder_memory;
    state->progress.progress_monitor = jpeg_limit_scans;
    info->progress = &state->progress;
    jpeg_mem_src(info, data, (unsigned long)size);
    jpeg_read_header(info, TRUE);
    state->scan_limit = scan_limit_for(info);

    int cmyk = info->jpeg_color_space == JCS_CMYK || info->jpeg_color_space == JCS_YCCK;
    switch (info->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        info->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK: /* libjpeg turns YCCK into CMYK for us */
        info->out_color_space = JCS_CMYK;
        break;
    default:
        decode_result_fail(result, IMAGE_CODECS_UNSUPPORTED, "unsupported kind of JPEG (%d colour components)",
                           info->num_components);
        return;
    }
    result->decoder_memory = jpeg_decoder_memory(info);
    /* A progressive file's first scan writes every block's DC coefficient, so its coefficient buffers
     * are all in use however little data follows: a 90 KB file declaring 8000 x 8000 pixels takes
     * 190 MB. Real photos carry far more than a byte of data per 256 bytes of coefficients (that would
     * be 0.05 bits per pixel; photos have 1-4), so more than that is refused as a decompression bomb. */
    double coefficients = jpeg_coefficient_bytes(info);
    if (coefficients > JPEG_COEFFICIENT_ALLOWANCE + JPEG_COEFFICIENTS_PER_FILE_BYTE * (double)size) {
        decode_result_fail(result, IMAGE_CODECS_TOO_LARGE,
                           "JPEG image too large for its file (a %u x %u multi-scan image needs %.0f MB of coefficient "
                           "buffers, more than %d bytes per byte of its %zu-byte file: a decompression bomb)",
                           info->image_width, info->image_height, coefficients / 1e6, JPEG_COEFFICIENTS_PER_FILE_BYTE,
                           size);
        return;
    }
    /* Checked on the header, before jpeg_start_decompress allocates coefficient buffers. */
    if (!decode_result_allocate(result, info->image_width, info->image_height, options, "JPEG")) {
        return;
    }
    if (!row_sampler_start(&state->sampler, result, options, info->image_width, info->image_height)) {
        return;
    }
    jpeg_start_decompress(info);
    if (info->output_width != info->image_width || info->output_height != info->image_height) {
        decode_result_fail(result, IMAGE_CODECS_CORRUPT, "invalid JPEG data (output size differs from header)");
        return;
    }

    /* From libjpeg's pool, so jpeg_destroy_decompress frees it on every path. */
    JSAMPARRAY cmyk_row =
        cmyk ? (*info->mem->alloc_sarray)((j_common_ptr)info, JPOOL_IMAGE, info->output_width * 4, 1) : NULL;
    /* Sampled decoding: each scanline lands here and only its kept pixels are copied out. */
    JSAMPARRAY sampled_row =
        state->sampler.active ? (*info->mem->alloc_sarray)((j_common_ptr)info, JPOOL_IMAGE, info->output_width * 3, 1)
                              : NULL;
    size_t row_bytes = (size_t)info->output_width * 3;
    while (info->output_scanline < info->output_height) {
        JDIMENSION y = info->output_scanline;
        unsigned char *destination = result->pixels + (size_t)y * row_bytes;
        if (sampled_row != NULL) {
            unsigned char *direct = row_sampler_direct_row(&state->sampler, y);
            destination = direct != NULL ? direct : sampled_row[0];
        }
        if (cmyk) {
            jpeg_read_scanlines(info, cmyk_row, 1);
            cmyk_row_to_rgb(cmyk_row[0], destination, info->output_width, info->saw_Adobe_marker);
        } else {
            JSAMPROW row = destination;
            jpeg_read_scanlines(info, &row, 1);
        }
        if (sampled_row != NULL) {
            row_sampler_put(&state->sampler, y, destination, info->output_width, 0, 1);
        }
    }
    /* No jpeg_finish_decompress: every pixel has been read and nothing after them can change
     * them, so there is no point reading on to the EOI marker. */
}

void image_codecs_decode_jpeg(const unsigned char *data, size_t size, const ImageCodecsOptions *options,
                              ImageCodecsResult *result) {
    if (result == NULL) {
        return;
    }
    decode_result_reset(result);
    if (data == NULL || size == 0) {
        decode_result_fail(result, IMAGE_CODECS_INVALID_ARGUMENT, "no JPEG data (empty buffer)");
        return;
    }
    ImageCodecsOptions resolved = decode_options_resolve(options);
    JpegDecodeState state;
    memset(&state, 0, sizeof state);
    decode_jpeg_guarded(&state, data, size, &resolved, result);
    /* Safe even if jpeg_create_decompress never ran or failed: info.mem is still NULL then. */
    jpeg_destroy_decompress(&state.info);
    row_sampler_free(&state.sampler);
}
