// Portable int8 micro-kernels: the template over the compiler's 4-lane vectors (4 pixels per vector), for CPUs
// without AVX2 and other architectures. The fused multiply-adds of the epilogue are `fmaf` per lane (exactly the
// scheme's arithmetic; a library call where the baseline has no FMA instruction, as on x86-64's SSE2).
#include "kernels_internal.h"

#include <math.h>
#include <string.h>


typedef int32_t qi4 __attribute__((ext_vector_type(4)));
typedef uint32_t qu4 __attribute__((ext_vector_type(4)));
typedef float qf4 __attribute__((ext_vector_type(4)));

SN_INLINE qi4 qi4_load(const void *p) {
    qi4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

SN_INLINE void qi4_store(void *p, qi4 v) { memcpy(p, &v, sizeof v); }

/// One row's quad, each weight sign-extended.
typedef struct qw4 {
    int32_t w0, w1, w2, w3;
} qw4;

SN_INLINE qw4 qw4_load(const int8_t *p) { return (qw4){p[0], p[1], p[2], p[3]}; }

SN_INLINE qi4 qi4_dot(qi4 acc, qi4 x, qw4 w) {
    const qu4 u = (qu4)x;
    return acc + (qi4)(u & 255) * w.w0 + (qi4)(u >> 8 & 255) * w.w1 + (qi4)(u >> 16 & 255) * w.w2 + (qi4)(u >> 24) * w.w3;
}

SN_INLINE qf4 qf4_fma(qf4 a, qf4 b, qf4 c) {
    return (qf4){fmaf(a.x, b.x, c.x), fmaf(a.y, b.y, c.y), fmaf(a.z, b.z, c.z), fmaf(a.w, b.w, c.w)};
}

/// rint (half to even, the default rounding mode) of values the template has clamped to -255 ... 255: adding and
/// subtracting 1.5 * 2^23 leaves the float's integer part rounded by the addition itself (exact for |f| < 2^22),
/// with no library call where the baseline has no rounding instruction (x86-64's SSE2).
SN_INLINE qi4 qf4_rint(qf4 f) {
    const qf4 magic = (qf4)(12582912.0f);
    return __builtin_convertvector((f + magic) - magic, qi4);
}

// The int8 vector layer (templates/qu8_pointwise.h).
#define SN_QI qi4
#define SN_QF qf4
#define SN_QLANES 4
#define SN_QB 4
#define SN_QX qi4
#define SN_QLOADX(p) qi4_load(p)
#define SN_QW qw4
#define SN_QLOADW(p) qw4_load(p)
#define SN_QDOT(acc, x, w) qi4_dot((acc), (x), (w))
#define SN_QZERO() ((qi4)(0))
#define SN_QSET1_I(x) ((qi4)(x))
#define SN_QADD_I(a, b) ((a) + (b))
#define SN_QSUB_I(a, b) ((a) - (b))
#define SN_QAND_I(a, b) ((a) & (b))
#define SN_QOR3_I(a, b, c) ((a) | (b) | (c))
#define SN_QOR_I(a, b) ((a) | (b))
#define SN_QSLL_8(v) ((qi4)((qu4)(v) << 8))
#define SN_QSLL_16(v) ((qi4)((qu4)(v) << 16))
#define SN_QSLL_24(v) ((qi4)((qu4)(v) << 24))
#define SN_QSRL_8(v) ((qi4)((qu4)(v) >> 8))
#define SN_QSRL_16(v) ((qi4)((qu4)(v) >> 16))
#define SN_QSRL_24(v) ((qi4)((qu4)(v) >> 24))
#define SN_QLOAD_I(p) qi4_load(p)
#define SN_QSTORE_I(p, v) qi4_store((p), (v))
#define SN_QCVT_F(i) __builtin_convertvector((i), qf4)
#define SN_QSET1_F(x) ((qf4)(x))
#define SN_QMUL_F(a, b) ((a) * (b))
#define SN_QMAX_F(a, b) __builtin_elementwise_max((a), (b))
#define SN_QMIN_F(a, b) __builtin_elementwise_min((a), (b))
#define SN_QFMA_F(a, b, c) qf4_fma((a), (b), (c))
/// Byte n of each 32-bit lane (the shifts and ands of the portable layer).
#define SN_QBYTE(w, n) SN_QAND_I(((n) == 0 ? (w) : (n) == 1 ? SN_QSRL_8(w) : (n) == 2 ? SN_QSRL_16(w) : SN_QSRL_24(w)), SN_QSET1_I(255))
/// Rows already clamped to 0 ... 255 by the template: shifts and ors.
#define SN_QPACK4(q0, q1, q2, q3) SN_QOR_I(SN_QOR3_I((q0), SN_QSLL_8(q1), SN_QSLL_16(q2)), SN_QSLL_24(q3))
#define SN_QPACK_SATURATES 0
#define SN_QCVT_RINT(f) qf4_rint(f)

#define SN_QPW_UKERNEL sn_qu8_pointwise_ukernel_4x8__generic
#define SN_QPW_MR 4
#define SN_QPW_NV 2
#include "templates/qu8_pointwise.h"
