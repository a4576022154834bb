// Portable int8 depthwise micro-kernel (templates/qu8_dwconv3x3.h) over the compiler's 4-lane vectors: 4 pixels x
// 4 channels per vector, the transpose, dot products and packs as plain per-lane code. The epilogue's fused
// multiply-adds are `fmaf` per lane, exactly the scheme's arithmetic.
#include "kernels_internal.h"

#include <math.h>
#include <string.h>


typedef int32_t dqi4 __attribute__((ext_vector_type(4)));
typedef uint32_t dqu4 __attribute__((ext_vector_type(4)));
typedef float dqf4 __attribute__((ext_vector_type(4)));

SN_INLINE dqi4 dq_load(const void *p) {
    dqi4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

SN_INLINE uint32_t dq_byte(int32_t v, int n) { return ((uint32_t)v >> (8 * n)) & 255u; }

/// The window of one output pixel from 4 padded pixels at p (4 channels each): lane j is channel j's bytes at
/// pixels 0 ... 3 (its 3 horizontal taps and one with weight 0).
SN_INLINE dqi4 dq_window(const uint8_t *p) {
    const dqi4 a = dq_load(p);
    dqu4 t;
    for (int j = 0; j < 4; j++) t[j] = dq_byte(a[0], j) | dq_byte(a[1], j) << 8 | dq_byte(a[2], j) << 16 | dq_byte(a[3], j) << 24;
    return (dqi4)t;
}

SN_INLINE dqi4 dq_dot(dqi4 acc, dqi4 x, const int8_t *w) {
    for (int j = 0; j < 4; j++) {
        int32_t s = 0;
        for (int m = 0; m < 4; m++) s += (int32_t)dq_byte(x[j], m) * w[4 * j + m];
        acc[j] += s;
    }
    return acc;
}

SN_INLINE dqf4 dq_fma(dqf4 a, dqf4 b, dqf4 c) {
    return (dqf4){fmaf(a.x, b.x, c.x), fmaf(a.y, b.y, c.y), fmaf(a.z, b.z, c.z), fmaf(a.w, b.w, c.w)};
}

/// rint, half to even, of values clamped to -255 ... 255 (as ukernels_qu8_generic.c: the 1.5 * 2^23 trick).
SN_INLINE dqi4 dq_rint(dqf4 f) {
    const dqf4 magic = (dqf4)(12582912.0f);
    return __builtin_convertvector((f + magic) - magic, dqi4);
}

/// Codes of pixels 0 ... 3 (q[k] lane j = pixel k, channel j) as natural bytes.
SN_INLINE dqi4 dq_pack(dqi4 q0, dqi4 q1, dqi4 q2, dqi4 q3) {
    const dqi4 q[4] = {q0, q1, q2, q3};
    dqu4 out;
    for (int k = 0; k < 4; k++)
        out[k] = (uint32_t)q[k][0] | (uint32_t)q[k][1] << 8 | (uint32_t)q[k][2] << 16 | (uint32_t)q[k][3] << 24;
    return (dqi4)out;
}

#define SN_DLANES 4
#define SN_DV dqi4
#define SN_DF dqf4
/// A kernel row's weights, 4 per slot (by value: the shifted copy is made per block).
typedef struct dq_weights {
    int8_t w[16];
} dq_weights;

SN_INLINE dq_weights dq_loadw(const int8_t *w) {
    dq_weights r;
    memcpy(r.w, w, 16);
    return r;
}

/// Each slot's 4 weights one byte up: (0, w0, w1, w2).
SN_INLINE dq_weights dq_shiftw(dq_weights w) {
    dq_weights r;
    for (int j = 0; j < 4; j++) r.w[4 * j] = 0, r.w[4 * j + 1] = w.w[4 * j], r.w[4 * j + 2] = w.w[4 * j + 1], r.w[4 * j + 3] = w.w[4 * j + 2];
    return r;
}
#define SN_DW dq_weights
#define SN_DSHIFTW(w) dq_shiftw(w)
#define SN_DWIN(p) dq_window(p)
#define SN_DLOADW(rec, q) dq_loadw((rec)->w[q])
#define SN_DDOT(acc, x, wts) dq_dot((acc), (x), (wts).w)
#define SN_DPATTERN_I(p) dq_load(p)
#define SN_DPATTERN_F(p) ((dqf4){(p)[0], (p)[1], (p)[2], (p)[3]})
#define SN_DCVT_F(i) __builtin_convertvector((i), dqf4)
#define SN_DFMA_F(a, b, c) dq_fma((a), (b), (c))
#define SN_DMUL_F(a, b) ((a) * (b))
#define SN_DMIN_F(a, b) __builtin_elementwise_min((a), (b))
#define SN_DMAX_F(a, b) __builtin_elementwise_max((a), (b))
#define SN_DCVT_RINT(f) dq_rint(f)
#define SN_DADD_I(a, b) ((a) + (b))
#define SN_DPACK(q0, q1, q2, q3) dq_pack((q0), (q1), (q2), (q3))
#define SN_DUNZIP_S2(v) (v)
/// n (< 4) pixels of v from pixel `at` on, as bytes (no memcpy call).
SN_INLINE void dq_store_part(uint8_t *p, dqi4 v, ptrdiff_t n, int at) {
    for (ptrdiff_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) p[4 * i + k] = (uint8_t)((uint32_t)v[at + i] >> (8 * k));
}
#define SN_DSTORE_PART(p, v, n, at) dq_store_part((p), (v), (n), (at))
#define SN_DSTORE(p, v) memcpy((p), &(v), 16)

#define SN_DPACK_SATURATES 0

#define SN_QDW_UKERNEL sn_qu8_dwconv3x3_ukernel_4__generic
#include "templates/qu8_dwconv3x3.h"
