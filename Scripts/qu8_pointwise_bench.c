// The int8 pointwise operator at the C level: checks every configuration the CPU runs against a naive twin on odd
// shapes, then times it against the fp32 pointwise kernel on every 1x1 layer of 0.5x g3 and 1x g3 (one thread,
// interleaved rounds, medians; `x` in the table is how many units have the layer). Random weights and codes: the
// kernels' time does not depend on the values. Build and run (about a minute):
//
//   clang -O2 -ISources/CKernels/include -ISources/CKernels Sources/CKernels/*.c Scripts/qu8_pointwise_bench.c \
//       -lm -o /tmp/qu8_pointwise_bench && /tmp/qu8_pointwise_bench [rounds]
//
// rounds 0: correctness only. On a CPU with AVX-512 VNNI but not AVX-VNNI, the AVX-VNNI micro-kernel (4x24) can
// still be checked through a stand-in: the same file with its VEX `vpdpbusd` swapped for the EVEX ymm form (same
// semantics, AVX512VL), which this harness runs when built with it:
//
//   sed -e 's/target("avxvnni,avx2,fma")/target("avx512vnni,avx512vl,avx2,fma")/' \
//       -e 's/_mm256_dpbusd_avx_epi32/_mm256_dpbusd_epi32/' -e 's/__avxvnni\b/__avxvnni_evex/' \
//       -e 's/SN_KERNELS_X86 \&\& SN_HAVE_AVXVNNI/SN_KERNELS_X86/' \
//       Sources/CKernels/ukernels_qu8_avxvnni.c > /tmp/ukernels_qu8_avxvnni_evex.c
//   clang -O2 -DSN_QU8_EVEX_STANDIN -ISources/CKernels/include -ISources/CKernels Sources/CKernels/*.c \
//       /tmp/ukernels_qu8_avxvnni_evex.c Scripts/qu8_pointwise_bench.c -lm -o /tmp/qu8_pointwise_bench
#include "kernels_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)rng; }

/// The naive twin: planar thinking on the block layout, the scheme's arithmetic literally.
static void reference(const uint8_t *x, ptrdiff_t xbs, uint8_t *y, ptrdiff_t ybs, const uint8_t *res, int32_t zr, float sr,
                      int relu, const int8_t *w, const uint8_t *zin, const float *mult, const float *bias,
                      const float *scale, const uint8_t *zout, int per_channel, ptrdiff_t groups, ptrdiff_t k,
                      ptrdiff_t m, ptrdiff_t pixels) {
    const ptrdiff_t kq = (k + 3) / 4, mp = (m + 3) / 4 * 4;
    for (ptrdiff_t g = 0; g < groups; g++) {
        for (ptrdiff_t r = 0; r < m; r++) {
            const ptrdiff_t o = g * m + r, c = g * mp + r;  // real output, padded channel
            for (ptrdiff_t p = 0; p < pixels; p++) {
                int32_t acc = 0;
                for (ptrdiff_t i = 0; i < k; i++) {
                    const ptrdiff_t ci = g * kq * 4 + i;
                    acc += (int32_t)w[o * k + i] * ((int32_t)x[ci / 4 * xbs + 4 * p + ci % 4] - zin[g * k + i]);
                }
                float v = fmaf((float)acc, mult[o], bias[o]);
                if (res) v = fmaf((float)((int32_t)res[c / 4 * ybs + 4 * p + c % 4] - zr), sr, v);
                if (relu) v = v > 0 ? v : 0;
                const ptrdiff_t map = per_channel ? o : 0;
                float q = rintf(v * (1.0f / scale[map])) + (float)zout[map];
                q = q < 0 ? 0 : q > 255 ? 255 : q;
                y[c / 4 * ybs + 4 * p + c % 4] = (uint8_t)q;
            }
        }
    }
}

static int check(const sn_qu8_pointwise_config *cfg, ptrdiff_t groups, ptrdiff_t k, ptrdiff_t m, ptrdiff_t pixels,
                 int residual, int relu, int per_channel, int worst, int zero_points) {
    const ptrdiff_t kq = (k + 3) / 4, mp = (m + 3) / 4 * 4, bs = sn_qu8_block_bytes(pixels) + 64;
    const ptrdiff_t outputs = groups * m;
    uint8_t *x = malloc((size_t)(groups * kq * bs)), *y = malloc((size_t)(groups * mp / 4 * bs));
    uint8_t *yr = malloc((size_t)(groups * mp / 4 * bs)), *res = malloc((size_t)(groups * mp / 4 * bs));
    int8_t *w = malloc((size_t)(outputs * k));
    uint8_t *zin = malloc((size_t)(groups * k)), *zout = malloc((size_t)outputs);
    float *mult = malloc(sizeof(float) * (size_t)outputs), *bias = malloc(sizeof(float) * (size_t)outputs);
    float *scale = malloc(sizeof(float) * (size_t)outputs);
    for (ptrdiff_t i = 0; i < groups * kq * bs; i++) x[i] = worst ? 255 : (uint8_t)next();
    for (ptrdiff_t i = 0; i < groups * mp / 4 * bs; i++) res[i] = (uint8_t)next();
    for (ptrdiff_t i = 0; i < outputs * k; i++) w[i] = worst ? (worst > 0 ? 127 : -127) : (int8_t)(next() % 255 - 127);
    for (ptrdiff_t i = 0; i < groups * k; i++) zin[i] = worst ? 0 : (uint8_t)next();
    for (ptrdiff_t o = 0; o < outputs; o++) {
        zout[o] = zero_points ? 0 : (uint8_t)next();
        mult[o] = worst ? 1e-6f : (float)(next() % 1000 + 1) * 1e-5f / (float)k;
        bias[o] = (float)((int)(next() % 2001) - 1000) * 0.01f;
        scale[o] = (float)(next() % 1000 + 1) * 1e-4f;
    }
    int err;
    sn_packed_weights *pk = sn_qu8_pointwise_pack(cfg, w, zin, mult, bias, scale, zout, per_channel, outputs, k, m, &err);
    if (!pk) { printf("pack failed %d\n", err); return 1; }
    memset(y, 0xcd, (size_t)(groups * mp / 4 * bs));
    memcpy(yr, y, (size_t)(groups * mp / 4 * bs));
    const int32_t zr = zero_points ? 0 : 17;
    const sn_qu8_pointwise_args a = {x, bs, y, bs, residual ? res : NULL, bs, zr, 0.031f, relu, k, m, 0, groups * mp, pixels};
    int rc = sn_qu8_pointwise(cfg, pk, &a);
    reference(x, bs, yr, bs, residual ? res : NULL, zr, 0.031f, relu, w, zin, mult, bias, scale, zout, per_channel, groups, k, m, pixels);
    int bad = rc != 0;
    for (ptrdiff_t c = 0; c < groups * mp && !bad; c++) {
        if (c % mp >= m) continue;
        for (ptrdiff_t p = 0; p < pixels; p++) {
            const ptrdiff_t at = c / 4 * bs + 4 * p + c % 4;
            if (y[at] != yr[at]) { printf("  mismatch c=%td p=%td got %d want %d\n", c, p, y[at], yr[at]); bad = 1; break; }
        }
    }
    if (bad) printf("FAIL %s g=%td k=%td m=%td pixels=%td res=%d relu=%d pc=%d worst=%d zp0=%d rc=%d\n", cfg->name, groups, k, m, pixels, residual, relu, per_channel, worst, zero_points, rc);
    sn_packed_weights_free(pk);
    free(x); free(y); free(yr); free(res); free(w); free(zin); free(zout); free(mult); free(bias); free(scale);
    return bad;
}

#ifdef SN_QU8_EVEX_STANDIN
void sn_qu8_pointwise_ukernel_4x24__avxvnni_evex(const sn_qu8_pointwise_tile *tile, const sn_qu8_pointwise_params *params);
static const sn_qu8_pointwise_config evex_standin = {"sn_qu8_pointwise_ukernel_4x24__avxvnni_evex (stand-in)",
    SN_CPU_X86_AVX512VNNI | SN_CPU_X86_AVX512F, sn_qu8_pointwise_ukernel_4x24__avxvnni_evex, .mr = 4, .nr = 24, .lanes = 8,
    .layout = SN_LAYOUT_QU8_POINTWISE_QUADS_4};
#endif

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

typedef struct shape { const char *name; ptrdiff_t cin, cout, groups, size; } shape;

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 7;
    const sn_cpu_features have = sn_cpu_features_detected();
    int failures = 0, cases = 0;
    // Correctness: every configuration the CPU runs.
#ifdef SN_QU8_EVEX_STANDIN
    const size_t configs = sn_qu8_pointwise_config_count() + 1;
#else
    const size_t configs = sn_qu8_pointwise_config_count();
#endif
    for (size_t ci = 0; ci < configs; ci++) {
#ifdef SN_QU8_EVEX_STANDIN
        const sn_qu8_pointwise_config *cfg = ci < sn_qu8_pointwise_config_count() ? sn_qu8_pointwise_config_at(ci) : &evex_standin;
#else
        const sn_qu8_pointwise_config *cfg = sn_qu8_pointwise_config_at(ci);
#endif
        if ((cfg->required & ~have) != 0) { printf("skip %s (CPU lacks its features)\n", cfg->name); continue; }
        const ptrdiff_t pixel_counts[] = {1, 7, 49, 196, 3137};
        const ptrdiff_t gs[] = {1, 2, 3, 4, 8};
        const ptrdiff_t ks[] = {3, 10, 13, 24}, ms[] = {4, 10, 20, 27};
        int n = 0;
        for (int gi = 0; gi < 5; gi++) for (int pi = 0; pi < 5; pi++) for (int ki = 0; ki < 4; ki++) {
            const ptrdiff_t m = ms[(gi + pi + ki) % 4];
            const int variant = (gi + pi * 5 + ki) % 8;
            failures += check(cfg, gs[gi], ks[ki], m, pixel_counts[pi], variant & 1, (variant >> 1) & 1, (variant >> 2) & 1, 0, (gi + pi + ki) % 2);
            n++;
        }
        failures += check(cfg, 1, 1152, 8, 49, 0, 0, 1, 1, 0);
        failures += check(cfg, 1, 1152, 8, 49, 0, 0, 1, -1, 0);
        n += 2;
        cases += n;
        printf("%s: %d cases checked\n", cfg->name, n);
    }
    printf("correctness: %d cases, %d failures\n", cases, failures);
    if (failures) return 1;
    if (rounds == 0) return 0;

    // Speed: every 1x1 layer of 0.5x g3 and 1x g3 (shapes from the paper's Table 1; the 16 units), int8 against
    // fp32, with each layer's real epilogue (ReLU; the stride-1 expands add the residual in place, ReLU after), and the
    // scheme's zero points (0 after every ReLU).
    const sn_qu8_pointwise_config *q = sn_qu8_pointwise_select(sn_cpu_features_enabled());
    const sn_f32_pointwise_config *f = sn_f32_kernels_default()->pointwise;
    printf("\nint8 %s vs fp32 %s, one thread, %d interleaved rounds, medians\n", q->name, f->name, rounds);
    const struct { const char *name; ptrdiff_t stem, stage[3]; } models[] = {{"0.5x g3", 12, {120, 240, 480}}, {"1x g3", 24, {240, 480, 960}}};
    const int units[3] = {4, 8, 4};
    for (int mi = 0; mi < 2; mi++) {
        shape list[64];
        int count = 0, repeat[64];
        ptrdiff_t in = models[mi].stem, size = 56;
        for (int st = 0; st < 3; st++) {
            const ptrdiff_t out = models[mi].stage[st], mid = out / 4;
            list[count] = (shape){"compress, stride 2", in, mid, st == 0 ? 1 : 3, size}; repeat[count++] = 1;
            size /= 2;
            list[count] = (shape){"expand, stride 2", mid, out - in, 3, size}; repeat[count++] = 1;
            list[count] = (shape){"compress", out, mid, 3, size}; repeat[count++] = units[st] - 1;
            list[count] = (shape){"expand + residual", mid, out, 3, size}; repeat[count++] = units[st] - 1;
            in = out;
        }
        printf("\n%s\n| layer | x | K | M | pixels | MMAC | int8 us | fp32 us | int8 GMAC/s | fp32 GMAC/s | int8/fp32 |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", models[mi].name);
        double total_q = 0, total_f = 0, total_macs = 0;
        for (int si = 0; si < count; si++) {
            const shape s = list[si];
            const int residual = strstr(s.name, "residual") != NULL;
            const ptrdiff_t k = s.cin / s.groups, m = s.cout / s.groups, pixels = s.size * s.size;
            const ptrdiff_t kq = (k + 3) / 4, mp = (m + 3) / 4 * 4, bs = sn_qu8_block_bytes(pixels);
            const ptrdiff_t fstride = (pixels + 15) / 16 * 16;
            uint8_t *x = aligned_alloc(64, (size_t)(s.groups * kq * bs)), *y = aligned_alloc(64, (size_t)(s.groups * mp / 4 * bs));
            float *xf = aligned_alloc(64, sizeof(float) * (size_t)(s.cin * fstride)), *yf = aligned_alloc(64, sizeof(float) * (size_t)(s.cout * fstride));
            int8_t *w = malloc((size_t)(s.cout * k));
            float *wf = malloc(sizeof(float) * (size_t)(s.cout * k)), *small = malloc(sizeof(float) * (size_t)s.cout);
            uint8_t *z = calloc((size_t)s.cin, 1), *zo = calloc((size_t)s.cout, 1);
            for (ptrdiff_t i = 0; i < s.groups * kq * bs; i++) x[i] = (uint8_t)next();
            for (ptrdiff_t i = 0; i < s.groups * mp / 4 * bs; i++) y[i] = (uint8_t)next();
            for (ptrdiff_t i = 0; i < s.cin * fstride; i++) xf[i] = (float)(next() % 256);
            for (ptrdiff_t i = 0; i < s.cout * fstride; i++) yf[i] = 0.5f;
            for (ptrdiff_t i = 0; i < s.cout * k; i++) { w[i] = (int8_t)(next() % 255 - 127); wf[i] = w[i]; }
            for (ptrdiff_t o = 0; o < s.cout; o++) small[o] = 0.01f;
            int err;
            sn_packed_weights *pq = sn_qu8_pointwise_pack(q, w, z, small, small, small, zo, !residual, s.cout, k, m, &err);
            sn_packed_weights *pf = sn_f32_pointwise_pack(f, wf, small, s.cout, k, m, &err);
            const sn_qu8_pointwise_args qa = {x, bs, y, bs, residual ? y : NULL, bs, 0, 0.01f, 1, k, m, 0, s.groups * mp, pixels};
            const sn_pointwise_args fa = {xf, fstride, yf, fstride, residual ? yf : NULL, fstride, k, m, 0, s.cout, pixels,
                                          residual ? SN_EPILOGUE_ADD_RESIDUAL_RELU : SN_EPILOGUE_RELU};
            const double macs = (double)s.cout * k * pixels;
            const int reps = (int)(2e8 / macs) + 1;  // about 1-2 ms per measurement
            double tq[64], tf[64];
            for (int r = 0; r < rounds; r++) {
                for (int pass = 0; pass < 2; pass++) {
                    double t0 = now();
                    for (int i = 0; i < reps; i++) {
                        if (pass == 0) sn_qu8_pointwise(q, pq, &qa); else sn_f32_pointwise(f, pf, &fa);
                    }
                    (pass == 0 ? tq : tf)[r] = (now() - t0) / reps;
                }
            }
            qsort(tq, (size_t)rounds, sizeof(double), cmp);
            qsort(tf, (size_t)rounds, sizeof(double), cmp);
            const double mq = tq[rounds / 2], mf = tf[rounds / 2];
            printf("| %s | %d | %td | %td | %td | %.2f | %.1f | %.1f | %.1f | %.1f | %.2f |\n", s.name, repeat[si], k, m, pixels,
                   macs * 1e-6, mq * 1e6, mf * 1e6, macs / mq * 1e-9, macs / mf * 1e-9, mq / mf);
            total_q += repeat[si] * mq;
            total_f += repeat[si] * mf;
            total_macs += repeat[si] * macs;
            sn_packed_weights_free(pq); sn_packed_weights_free(pf);
            free(x); free(y); free(xf); free(yf); free(w); free(wf); free(small); free(z); free(zo);
        }
        printf("| **all 1x1 layers of %s** | | | | | %.1f | **%.0f** | **%.0f** | %.1f | %.1f | **%.2f** (%.2fx faster) |\n", models[mi].name,
               total_macs * 1e-6, total_q * 1e6, total_f * 1e6, total_macs / total_q * 1e-9, total_macs / total_f * 1e-9,
               total_q / total_f, total_f / total_q);
    }
    return 0;
}
