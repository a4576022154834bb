// Portable micro-kernels: the templates over the compiler's 4-float vectors (SSE2 on x86-64, NEON on arm64), used
// on CPUs without AVX2 + FMA and on other architectures; and plain-C stem and pooling kernels shaped so that the
// compiler vectorises them. Read the naive reference kernels (ShuffleNetEngine/Kernels/ReferenceKernels.swift)
// for what every micro-kernel must compute.
#include "kernels_internal.h"

#include <string.h>

#define SN_INLINE static inline __attribute__((always_inline))

typedef float sn_v4 __attribute__((ext_vector_type(4)));

SN_INLINE sn_v4 v4_load(const float *p) {
    sn_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

SN_INLINE void v4_store(float *p, sn_v4 v) { memcpy(p, &v, sizeof v); }

/// Lanes 0 ..< n of p (n <= 4), the others zero; nothing past them is read.
SN_INLINE sn_v4 v4_load_lanes(const float *p, size_t n) {
    float lanes[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n && i < 4; i++) lanes[i] = p[i];
    return v4_load(lanes);
}

SN_INLINE void v4_store_lanes(float *p, sn_v4 v, size_t n) {
    float lanes[4];
    v4_store(lanes, v);
    for (size_t i = 0; i < n && i < 4; i++) p[i] = lanes[i];
}

SN_INLINE sn_v4 v4_load_even(const float *p) {
    return __builtin_shufflevector(v4_load(p), v4_load(p + 4), 0, 2, 4, 6);
}

// The vector layer the templates are written against (templates/vector_layer.h). `a * b + c` is contracted to an FMA
// where the baseline has one (arm64), and left as a multiply and an add where it has not (x86-64's SSE2).
#define SN_V sn_v4
#define SN_LANES 4
#define SN_VLOAD(p) v4_load(p)
#define SN_VSTORE(p, v) v4_store((p), (v))
#define SN_VSET1(x) ((sn_v4)(x))
#define SN_VZERO() ((sn_v4)(0.0f))
#define SN_VFMA(a, b, c) ((a) * (b) + (c))
#define SN_VADD(a, b) ((a) + (b))
#define SN_VMAX(a, b) __builtin_elementwise_max((a), (b))
#define SN_VLOAD_LANES(p, n) v4_load_lanes((p), (n))
#define SN_VSTORE_LANES(p, v, n) v4_store_lanes((p), (v), (n))
#define SN_VREDUCE_ADD(v) (((v).x + (v).y) + ((v).z + (v).w))
#define SN_VLOAD_EVEN(p) v4_load_even(p)
#define SN_PREFETCH(p) __builtin_prefetch(p)

// 4 x 4 accumulators fill the 16 SSE2 registers' worth the compiler has (it spills a few on x86-64).
#define SN_POINTWISE_UKERNEL sn_f32_pointwise_ukernel_4x16__generic
#define SN_POINTWISE_MR 4
#define SN_POINTWISE_NV 4
#define SN_POINTWISE_TAIL_MAX 0
#include "templates/f32_pointwise.h"

#define SN_DENSE_UKERNEL sn_f32_dense_ukernel_4x4__generic
#include "templates/f32_dense.h"

#define SN_DWCONV_PLANE_UKERNEL sn_f32_dwconv3x3_ukernel_plane4__generic
#include "templates/f32_dwconv3x3_plane.h"

// MARK: - Not from a template yet: stem, pooling

/// Output row y of every channel: the row is its own accumulator, one tap at a time over the whole row, a loop
/// with a stride-2 load the compiler can vectorise. Taps outside the plane (padding) are left out.
void sn_f32_conv3x3s2_ukernel_1x1__generic(const sn_conv3x3s2_args *args, const float *weights, const float *bias,
                                           ptrdiff_t y, int rows, int first, int last) {
    SN_LOCAL_ARGS(sn_conv3x3s2_args);
    (void)rows;  // one row per call (mr_rows = 1)
    const ptrdiff_t width = a->width, out_w = (width - 1) / 2 + 1;
    for (ptrdiff_t o = 0; o < a->outputs; o++) {
        const float *w = weights + o;  // tap t of input channel c at w[(9 * c + t) * outputs]
        float *dst = a->output + o * a->output_plane_stride + (y - a->output_row_base) * out_w;
        for (ptrdiff_t x = 0; x < out_w; x++) dst[x] = bias[o];
        for (ptrdiff_t c = 0; c < a->input_channels; c++) {
            for (int ky = first; ky <= last; ky++) {
                const float *line = a->input + c * a->input_plane_stride + (2 * y - 1 + ky) * width;
                for (int kx = 0; kx < 3; kx++) {
                    const float tap = w[(9 * c + 3 * ky + kx) * a->outputs];
                    // Column 2x + kx - 1 must lie in 0 ..< width: x <= (width - kx) / 2, none when width < kx (a
                    // 1-pixel-wide plane has no column 1; C's division truncates -1 / 2 to 0, hence the test).
                    const ptrdiff_t last_x = width >= kx ? (width - kx) / 2 + 1 : 0;
                    const ptrdiff_t x0 = kx == 0 ? 1 : 0, x1 = last_x < out_w ? last_x : out_w;
                    for (ptrdiff_t x = x0; x < x1; x++) dst[x] += line[2 * x + kx - 1] * tap;
                }
            }
        }
        for (ptrdiff_t x = 0; x < out_w; x++) dst[x] = dst[x] > 0 ? dst[x] : 0;
    }
}

/// Outputs per call: the chunk's columns, combined down the window's rows, fit a stack array.
enum { POOL_CHUNK = 32 };

void sn_f32_pool3x3s2_ukernel_32__generic(const sn_pool3x3s2_args *args, ptrdiff_t y, ptrdiff_t o0, int window) {
    SN_LOCAL_ARGS(sn_pool3x3s2_args);
    const ptrdiff_t width = a->width, out_w = (width - 1) / 2 + 1;
    const int is_max = a->kind == SN_POOL_MAX;
    const float padding = is_max ? -__builtin_inff() : 0.0f;
    const ptrdiff_t count = out_w - o0 < POOL_CHUNK ? out_w - o0 : POOL_CHUNK;
    for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
        const float *src = a->input + c * a->input_plane_stride;
        // Rows 2y-1 .. 2y+1 that exist (2y always does).
        const float *rows[3];
        int n = 0;
        if (window & SN_POOL_ROW_ABOVE) rows[n++] = src + (2 * y - 1 - a->input_row_base) * width;
        rows[n++] = src + (2 * y - a->input_row_base) * width;
        if (window & SN_POOL_ROW_BELOW) rows[n++] = src + (2 * y + 1 - a->input_row_base) * width;
        // column[j]: input column 2*o0 - 1 + j combined over the rows (the padding value outside the plane).
        float column[2 * POOL_CHUNK + 1];
        for (ptrdiff_t j = 0; j < 2 * count + 1; j++) {
            const ptrdiff_t x = 2 * o0 - 1 + j;
            float v = padding;
            if (x >= 0 && x < width) {
                v = rows[0][x];
                for (int i = 1; i < n; i++) v = is_max ? (rows[i][x] > v ? rows[i][x] : v) : v + rows[i][x];
            }
            column[j] = v;
        }
        float *out = a->output + c * a->output_plane_stride + y * out_w + o0;
        for (ptrdiff_t i = 0; i < count; i++) {
            const float l = column[2 * i], m = column[2 * i + 1], r = column[2 * i + 2];
            if (is_max) {
                const float lm = l > m ? l : m;
                out[i] = lm > r ? lm : r;
            } else {
                out[i] = (l + m + r) * (1.0f / 9.0f);
            }
        }
    }
}
