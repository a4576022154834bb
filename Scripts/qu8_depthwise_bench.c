// The int8 3x3 depthwise operator (channel shuffle folded in) at the C level: checks every configuration the CPU
// runs against a naive twin (planar thinking on the block layout, the scheme's arithmetic literally), then times
// it against the fp32 depthwise on every depthwise layer of 0.5x g3 and 1x g3 (one thread, interleaved rounds,
// medians; `x` is how many units have the layer). Random weights and codes: the time does not depend on values.
//
//   clang -O2 -ISources/CKernels/include -ISources/CKernels Sources/CKernels/*.c Scripts/qu8_depthwise_bench.c \
//       -lm -o /tmp/qu8_depthwise_bench && /tmp/qu8_depthwise_bench [rounds]
//
// rounds 0: correctness only.
//
// Old against new in the same run: compile another version's qu8_depthwise.c and ukernels_qu8_dw_{avx512vnni,avx2}.c
// (with its own kernels_internal.h and templates/qu8_dwconv3x3.h first on the include path) with every
// sn_qu8_depthwise3x3* and sn_qu8_dwconv3x3_ukernel_* symbol renamed base_*, link the object in and add
// -DSN_QDW_BASELINE: each round then times the baseline too (baseline, int8, fp32 in turn) and the table gets
// its column and the new/baseline ratio.
#include "kernels_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)rng; }

static ptrdiff_t slot_of(ptrdiff_t c, ptrdiff_t per_group) { return c / per_group * ((per_group + 3) / 4) * 4 + c % per_group; }

static int check(const sn_qu8_depthwise_config *cfg, ptrdiff_t channels, ptrdiff_t in_groups, ptrdiff_t groups,
                 ptrdiff_t size, int stride, int paper, int zero_points) {
    const ptrdiff_t n = channels / groups, n_in = channels / in_groups, pixels = size * size;
    const ptrdiff_t os = (size - 1) / stride + 1, opix = os * os;
    const ptrdiff_t ibs = sn_qu8_block_bytes(pixels) + 64, obs = sn_qu8_block_bytes(opix) + 64;  // odd strides too
    const ptrdiff_t iblocks = in_groups * ((n_in + 3) / 4), oblocks = groups * ((n + 3) / 4);
    uint8_t *x = malloc((size_t)(iblocks * ibs)), *y = malloc((size_t)(oblocks * obs)), *want = malloc((size_t)(oblocks * obs));
    int8_t *w = malloc((size_t)channels * 9);
    uint8_t *zin = malloc((size_t)channels), *zout = malloc((size_t)channels);
    float *mult = malloc(sizeof(float) * (size_t)channels), *bias = malloc(sizeof(float) * (size_t)channels),
          *scale = malloc(sizeof(float) * (size_t)channels);
    ptrdiff_t *dest = malloc(sizeof(ptrdiff_t) * (size_t)channels);
    for (ptrdiff_t i = 0; i < iblocks * ibs; i++) x[i] = (uint8_t)next();
    for (ptrdiff_t i = 0; i < oblocks * obs; i++) y[i] = want[i] = 0xa5;
    for (ptrdiff_t i = 0; i < channels * 9; i++) w[i] = (int8_t)(next() % 255 - 127);
    for (ptrdiff_t c = 0; c < channels; c++) {
        zin[c] = zero_points ? (uint8_t)next() : 0;
        zout[c] = zero_points ? (uint8_t)next() : 0;
        mult[c] = (float)(next() % 1000 + 1) * 1e-6f;
        bias[c] = ((float)(next() % 2001) - 1000.0f) * 1e-3f;
        scale[c] = (float)(next() % 1000 + 1) * 1e-4f;
        dest[c] = paper ? (c % n) * groups + c / n : (c % groups) * n + c / groups;
    }
    // The twin.
    for (ptrdiff_t c = 0; c < channels; c++) {
        const ptrdiff_t si = slot_of(c, n_in), so = slot_of(dest[c], n);
        for (ptrdiff_t oy = 0; oy < os; oy++) for (ptrdiff_t ox = 0; ox < os; ox++) {
            int32_t acc = 0;
            for (int ky = 0; ky < 3; ky++) for (int kx = 0; kx < 3; kx++) {
                const ptrdiff_t iy = oy * stride + ky - 1, ix = ox * stride + kx - 1;
                if (iy < 0 || iy >= size || ix < 0 || ix >= size) continue;
                acc += w[c * 9 + ky * 3 + kx] * ((int32_t)x[si / 4 * ibs + 4 * (iy * size + ix) + si % 4] - zin[c]);
            }
            const float v = fmaf((float)acc, mult[c], bias[c]);
            const float q = rintf(v * (1.0f / scale[c])) + (float)zout[c];
            want[so / 4 * obs + 4 * (oy * os + ox) + so % 4] = (uint8_t)fmaxf(0, fminf(255, q));
        }
    }
    int err = 0;
    sn_packed_weights *p = sn_qu8_depthwise3x3_pack(cfg, w, zin, mult, bias, scale, zout, dest, channels, in_groups, groups, &err);
    const ptrdiff_t sb = sn_qu8_depthwise3x3_scratch_bytes(size, size);
    uint8_t *scratch = malloc((size_t)sb);
    const sn_qu8_depthwise_args a = {x, ibs, y, obs, size, size, stride, 0, oblocks, scratch, sb};
    const int code = p ? sn_qu8_depthwise3x3(cfg, p, &a) : err;
    int bad = code != SN_KERNELS_OK;
    // Compare the real slots' real pixels.
    for (ptrdiff_t c = 0; c < channels && !bad; c++) {
        const ptrdiff_t so = slot_of(c, n);
        for (ptrdiff_t px = 0; px < opix; px++) {
            const ptrdiff_t at = so / 4 * obs + 4 * px + so % 4;
            if (y[at] != want[at]) {
                printf("MISMATCH %s C=%td gin=%td g=%td size=%td s=%d paper=%d zp=%d: slot %td pixel %td got %d want %d\n", cfg->name,
                       channels, in_groups, groups, size, stride, paper, zero_points, so, px, y[at], want[at]);
                bad = 1;
                break;
            }
        }
    }
    if (code != SN_KERNELS_OK) printf("ERROR %d %s C=%td g=%td size=%td\n", code, cfg->name, channels, groups, size);
    sn_packed_weights_free(p);
    free(x); free(y); free(want); free(w); free(zin); free(zout); free(mult); free(bias); free(scale); free(dest); free(scratch);
    return bad;
}

#ifdef SN_QDW_BASELINE
sn_packed_weights *base_sn_qu8_depthwise3x3_pack(const sn_qu8_depthwise_config *, const int8_t *, const uint8_t *,
                                                 const float *, const float *, const float *, const uint8_t *,
                                                 const ptrdiff_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int *);
int base_sn_qu8_depthwise3x3(const sn_qu8_depthwise_config *, const sn_packed_weights *, const sn_qu8_depthwise_args *);
ptrdiff_t base_sn_qu8_depthwise3x3_scratch_bytes(ptrdiff_t, ptrdiff_t);
void base_sn_qu8_dwconv3x3_ukernel_16__avx512vnni(const sn_qu8_dwconv_block *);
void base_sn_qu8_dwconv3x3_ukernel_8__avx2(const sn_qu8_dwconv_block *);
#endif

/// The thread's CPU time (SN_QDW_WALL_CLOCK: monotonic wall time): on a shared machine, time slices given to other
/// processes then do not count (their cache and memory traffic still does).
static double now(void) {
    struct timespec t;
#ifdef SN_QDW_WALL_CLOCK
    clock_gettime(CLOCK_MONOTONIC, &t);
#else
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
#endif
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 11;
    const sn_cpu_features have = sn_cpu_features_detected();
    int failures = 0, cases = 0;
    for (size_t ci = 0; ci < sn_qu8_depthwise_config_count(); ci++) {
        const sn_qu8_depthwise_config *cfg = sn_qu8_depthwise_config_at(ci);
        if ((cfg->required & ~have) != 0) { printf("skip %s (CPU lacks its features)\n", cfg->name); continue; }
        const ptrdiff_t sizes[] = {1, 2, 7, 9, 13, 14, 28, 56};
        const ptrdiff_t gs[] = {1, 2, 3, 4, 8};
        int k = 0;
        for (int si = 0; si < 8; si++) for (int gi = 0; gi < 5; gi++) for (int stride = 1; stride <= 2; stride++) {
            const ptrdiff_t g = gs[gi], per = (gi + si) % 2 ? 10 : 6;  // never a multiple of 4
            const ptrdiff_t in_groups = (si + stride) % 3 == 0 ? 1 : g;
            failures += check(cfg, g * per, in_groups, g, sizes[si], stride, k % 2, (k / 2) % 2 == 0);
            cases++; k++;
        }
        printf("%s: %d cases checked\n", cfg->name, k);
    }
    printf("correctness: %d cases, %d failures\n", cases, failures);
    if (failures) return 1;
    if (rounds == 0) return 0;

    const sn_qu8_depthwise_config *q = sn_qu8_depthwise_select(sn_cpu_features_enabled());
    const sn_f32_depthwise_config *f = sn_f32_kernels_default()->depthwise;
    printf("\nint8 %s vs fp32 %s, one thread, %d interleaved rounds, medians\n", q->name, f->name, rounds);
#ifdef SN_QDW_BASELINE
    sn_qu8_depthwise_config base = *q;
    base.ukernel = q->lanes == 16 ? base_sn_qu8_dwconv3x3_ukernel_16__avx512vnni : base_sn_qu8_dwconv3x3_ukernel_8__avx2;
    const int passes = 3;
    printf("with the baseline build of the same kernel in every round (column \"base us\")\n");
#else
    const int passes = 2;
#endif
    const struct { const char *name; ptrdiff_t stage[3]; } models[] = {{"0.5x g3", {120, 240, 480}}, {"1x g3", {240, 480, 960}}};
    const int units[3] = {4, 8, 4};
    for (int mi = 0; mi < 2; mi++) {
        printf("\n%s\n| layer | x | C | input | stride | %sint8 us | fp32 us | int8/fp32 |%s\n|---|---:|---:|---:|---:|%s---:|---:|---:|%s\n",
               models[mi].name, passes == 3 ? "base us | " : "", passes == 3 ? " int8/base |" : "", passes == 3 ? "---:|" : "",
               passes == 3 ? "---:|" : "");
        double total_q = 0, total_f = 0, total_b = 0;
        ptrdiff_t size = 56;
        for (int st = 0; st < 3; st++) {
            const ptrdiff_t mid = models[mi].stage[st] / 4, g = 3, n = mid / g;
            for (int stride = 2; stride >= 1; stride--) {
                const ptrdiff_t in_groups = st == 0 && stride == 2 ? 1 : g;
                const ptrdiff_t in = stride == 2 ? size : size / 2, pixels = in * in, os = (in - 1) / stride + 1;
                const ptrdiff_t ibs = sn_qu8_block_bytes(pixels), obs = sn_qu8_block_bytes(os * os);
                const ptrdiff_t iblocks = in_groups * ((mid / in_groups + 3) / 4), oblocks = g * ((n + 3) / 4);
                uint8_t *x = aligned_alloc(64, (size_t)(iblocks * ibs)), *y = aligned_alloc(64, (size_t)(oblocks * obs));
                const ptrdiff_t fstride = (pixels + 15) / 16 * 16;
                float *xf = aligned_alloc(64, sizeof(float) * (size_t)(mid * fstride)), *yf = aligned_alloc(64, sizeof(float) * (size_t)(mid * fstride));
                int8_t *w = malloc((size_t)mid * 9);
                float *wf = malloc(sizeof(float) * (size_t)mid * 9), *small = malloc(sizeof(float) * (size_t)mid);
                uint8_t *z = calloc((size_t)mid, 1), *zo = malloc((size_t)mid);
                for (ptrdiff_t c = 0; c < mid; c++) zo[c] = (uint8_t)(96 + next() % 64);  // signed maps, as the real layers have
                ptrdiff_t *dest = malloc(sizeof(ptrdiff_t) * (size_t)mid);
                for (ptrdiff_t i = 0; i < iblocks * ibs; i++) x[i] = (uint8_t)next();
                for (ptrdiff_t i = 0; i < mid * fstride; i++) xf[i] = (float)(next() % 256), yf[i] = 0;
                for (ptrdiff_t i = 0; i < mid * 9; i++) { w[i] = (int8_t)(next() % 255 - 127); wf[i] = w[i]; }
                for (ptrdiff_t c = 0; c < mid; c++) { small[c] = 0.01f; dest[c] = (c % g) * n + c / g; }
                int err;
                sn_packed_weights *pq = sn_qu8_depthwise3x3_pack(q, w, z, small, small, small, zo, dest, mid, in_groups, g, &err);
                const ptrdiff_t sb = sn_qu8_depthwise3x3_scratch_bytes(in, in);
                uint8_t *qs = aligned_alloc(64, (size_t)(sb + 63) / 64 * 64);
                float *fs = aligned_alloc(64, sizeof(float) * (size_t)((sn_padded_plane_count(in, in) + 15) / 16 * 16));
                const sn_qu8_depthwise_args qa = {x, ibs, y, obs, in, in, stride, 0, oblocks, qs, sb};
                const sn_depthwise_args fa = {xf, fstride, in, in, yf, fstride, dest, wf, small, 0, mid, fs, stride};
                const int reps = (int)(4e6 / (double)(mid * os * os * 9)) + 1;
                double tq[64], tf[64], tb[64];
#ifdef SN_QDW_BASELINE
                sn_packed_weights *pb = base_sn_qu8_depthwise3x3_pack(&base, w, z, small, small, small, zo, dest, mid, in_groups, g, &err);
                const ptrdiff_t bsb = base_sn_qu8_depthwise3x3_scratch_bytes(in, in);
                uint8_t *bs = aligned_alloc(64, (size_t)(bsb + 63) / 64 * 64);
                const sn_qu8_depthwise_args ba = {x, ibs, y, obs, in, in, stride, 0, oblocks, bs, bsb};
#endif
                for (int r = 0; r < rounds; r++) {
                    for (int pass = passes - 1; pass >= 0; pass--) {
                        const double t0 = now();
                        for (int i = 0; i < reps; i++) {
                            if (pass == 0) sn_qu8_depthwise3x3(q, pq, &qa);
                            else if (pass == 1) sn_f32_depthwise3x3(f, &fa);
#ifdef SN_QDW_BASELINE
                            else base_sn_qu8_depthwise3x3(&base, pb, &ba);
#endif
                        }
                        (pass == 0 ? tq : pass == 1 ? tf : tb)[r] = (now() - t0) / reps;
                    }
                }
                qsort(tq, (size_t)rounds, sizeof(double), cmp);
                qsort(tf, (size_t)rounds, sizeof(double), cmp);
                const double mq = tq[rounds / 2], mf = tf[rounds / 2];
                const int repeat = stride == 2 ? 1 : units[st] - 1;
                if (passes == 3) {
                    qsort(tb, (size_t)rounds, sizeof(double), cmp);
                    const double mb = tb[rounds / 2];
                    printf("| stage %d | %d | %td | %tdx%td | %d | %.1f | %.1f | %.1f | %.2f | %.2f |\n", st + 2, repeat, mid, in, in, stride,
                           mb * 1e6, mq * 1e6, mf * 1e6, mq / mf, mq / mb);
                    total_b += repeat * mb;
                } else {
                    printf("| stage %d | %d | %td | %tdx%td | %d | %.1f | %.1f | %.2f |\n", st + 2, repeat, mid, in, in, stride, mq * 1e6, mf * 1e6, mq / mf);
                }
                total_q += repeat * mq;
                total_f += repeat * mf;
#ifdef SN_QDW_BASELINE
                sn_packed_weights_free(pb);
                free(bs);
#endif
                sn_packed_weights_free(pq);
                free(x); free(y); free(xf); free(yf); free(w); free(wf); free(small); free(z); free(zo); free(dest); free(qs); free(fs);
            }
            size /= 2;
        }
        if (passes == 3)
            printf("| **all depthwise layers of %s** | | | | | **%.0f** | **%.0f** | **%.0f** | **%.2f** | **%.2f** |\n", models[mi].name,
                   total_b * 1e6, total_q * 1e6, total_f * 1e6, total_q / total_f, total_q / total_b);
        else
            printf("| **all depthwise layers of %s** | | | | | **%.0f** | **%.0f** | **%.2f** |\n", models[mi].name, total_q * 1e6, total_f * 1e6, total_q / total_f);
    }
    return 0;
}
