// The small int8 operators at the C level (shufflenet_kernels.h, "int8 pooling, quantize, dense"): checks every
// variant the CPU runs (and every dense configuration) against naive twins written from the formulas on odd
// shapes, then times each on the shapes the network has (one thread, medians of interleaved rounds). Build and run:
//
//   clang -O2 -ISources/CKernels/include -ISources/CKernels Sources/CKernels/*.c Scripts/qu8_small_ops_bench.c \
//       -lm -o /tmp/qu8_small_ops_bench && /tmp/qu8_small_ops_bench [rounds]
//
// rounds 0: correctness only.
#include "kernels_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)rng; }
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(next() % 1000001) / 1000000.0f; }

/// The scheme's quantization, literally (ActivationQuantization.quantize): rint, then + zero point, then clamp.
static uint8_t quantize(float v, float inv, uint8_t zp) {
    float q = rintf(v * inv) + (float)zp;
    q = q < 0 ? 0 : q > 255 ? 255 : q;
    return (uint8_t)q;
}

static uint8_t *bytes(size_t n, int junk) {
    uint8_t *p = aligned_alloc(64, (n + 63) / 64 * 64 + 64);
    for (size_t i = 0; i < n + 64; i++) p[i] = junk ? (uint8_t)next() : 0;
    return p;
}

static int failures = 0, checked = 0;

// MARK: - Twins

static void ref_quantize(const float *x, ptrdiff_t ps, ptrdiff_t channels, ptrdiff_t p0, ptrdiff_t p1, float inv,
                         uint8_t zp, uint8_t *y, ptrdiff_t bs) {
    for (ptrdiff_t c = 0; c < (channels + 3) / 4 * 4; c++)
        for (ptrdiff_t p = p0; p < p1; p++) y[c / 4 * bs + 4 * p + c % 4] = c < channels ? quantize(x[c * ps + p], inv, zp) : zp;
}

static void ref_avgpool(const uint8_t *x, ptrdiff_t xbs, ptrdiff_t h, ptrdiff_t w, uint8_t *y, ptrdiff_t ybs, ptrdiff_t b0,
                        ptrdiff_t b1, uint8_t zin, float step, float inv, uint8_t zout) {
    const ptrdiff_t oh = (h - 1) / 2 + 1, ow = (w - 1) / 2 + 1;
    for (ptrdiff_t b = b0; b < b1; b++)
        for (ptrdiff_t oy = 0; oy < oh; oy++)
            for (ptrdiff_t ox = 0; ox < ow; ox++)
                for (int j = 0; j < 4; j++) {
                    int32_t sum = 0;
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            const ptrdiff_t iy = 2 * oy + ky - 1, ix = 2 * ox + kx - 1;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) sum += (int32_t)x[b * xbs + 4 * (iy * w + ix) + j] - zin;
                        }
                    y[b * ybs + 4 * (oy * ow + ox) + j] = quantize((float)sum * step, inv, zout);
                }
}

static void ref_gap(const uint8_t *x, ptrdiff_t bs, ptrdiff_t channels, ptrdiff_t pixels, uint8_t zp, float scale,
                    float *features, uint8_t *codes, float inv, uint8_t czp) {
    for (ptrdiff_t c = 0; c < channels; c++) {
        int32_t sum = 0;
        for (ptrdiff_t p = 0; p < pixels; p++) sum += (int32_t)x[c / 4 * bs + 4 * p + c % 4] - zp;
        features[c] = (float)sum * scale / (float)pixels;
        if (codes) codes[c] = quantize(features[c], inv, czp);
    }
}

static void ref_dense(const int8_t *w, const uint8_t *x, uint8_t zp, const float *m, const float *b, float *y,
                      ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t k) {
    for (ptrdiff_t o = o0; o < o1; o++) {
        int32_t acc = 0;
        for (ptrdiff_t i = 0; i < k; i++) acc += (int32_t)w[o * k + i] * ((int32_t)x[i] - zp);
        y[o] = fmaf((float)acc, m[o], b[o]);
    }
}

// MARK: - Checks

static void expect(int ok, const char *what) {
    checked++;
    if (!ok) {
        failures++;
        if (failures < 20) printf("FAIL %s\n", what);
    }
}

static void check_quantize(sn_kernel_variant v, ptrdiff_t channels, ptrdiff_t pixels, ptrdiff_t p0, ptrdiff_t p1, uint8_t zp) {
    const ptrdiff_t ps = pixels + 3, bs = sn_qu8_block_bytes(pixels) + 64, blocks = (channels + 3) / 4;
    float *x = malloc(sizeof(float) * (size_t)(channels * ps + 16));
    const float scale = uniform(0.001f, 0.1f), inv = 1.0f / scale;
    for (ptrdiff_t i = 0; i < channels * ps; i++) {
        x[i] = uniform(-200, 200) * scale;
        if (next() % 4 == 0) x[i] = ((float)(int)(next() % 600) - 300 + 0.5f) * scale;  // near halves
    }
    uint8_t *a = bytes((size_t)(blocks * bs), 1), *b = bytes((size_t)(blocks * bs), 0);
    memcpy(b, a, (size_t)(blocks * bs));
    ref_quantize(x, ps, channels, p0, p1, inv, zp, b, bs);
    const int code = sn_qu8_quantize_planes(x, ps, channels, p0, p1, inv, zp, a, bs, v);
    char what[160];
    snprintf(what, sizeof what, "quantize %s C=%td P=%td %td..<%td zp=%d (code %d)", sn_kernels_name(v), channels, pixels, p0, p1, zp, code);
    expect(code == 0 && memcmp(a, b, (size_t)(blocks * bs)) == 0, what);
    free(x); free(a); free(b);
}

static void check_avgpool(sn_kernel_variant v, ptrdiff_t blocks, ptrdiff_t h, ptrdiff_t w, ptrdiff_t b0, ptrdiff_t b1, uint8_t zin, uint8_t zout) {
    const ptrdiff_t oh = (h - 1) / 2 + 1, ow = (w - 1) / 2 + 1;
    const ptrdiff_t xbs = sn_qu8_block_bytes(h * w) + 64 * (next() % 2), ybs = sn_qu8_block_bytes(oh * ow) + 128 * (next() % 2);
    uint8_t *x = bytes((size_t)(blocks * xbs), 1), *a = bytes((size_t)(blocks * ybs), 1), *b = bytes((size_t)(blocks * ybs), 0);
    memcpy(b, a, (size_t)(blocks * ybs));
    const float in_scale = uniform(0.01f, 0.1f), out_scale = in_scale * uniform(0.5f, 2.0f);
    const float step = in_scale / 9, inv = 1.0f / out_scale;
    ref_avgpool(x, xbs, h, w, b, ybs, b0, b1, zin, step, inv, zout);
    const int code = sn_qu8_avgpool3x3s2(x, xbs, h, w, a, ybs, b0, b1, zin, step, inv, zout, v);
    char what[160];
    snprintf(what, sizeof what, "avgpool %s blocks=%td %tdx%td %td..<%td zin=%d zout=%d (code %d)", sn_kernels_name(v), blocks, h, w, b0, b1, zin, zout, code);
    expect(code == 0 && memcmp(a, b, (size_t)(blocks * ybs)) == 0, what);
    free(x); free(a); free(b);
}

static void check_gap(sn_kernel_variant v, ptrdiff_t channels, ptrdiff_t pixels, uint8_t zp, int with_codes) {
    const ptrdiff_t bs = sn_qu8_block_bytes(pixels) + 64 * (next() % 2), blocks = (channels + 3) / 4;
    uint8_t *x = bytes((size_t)(blocks * bs), 1);
    float *fa = malloc(sizeof(float) * (size_t)channels), *fb = malloc(sizeof(float) * (size_t)channels);
    uint8_t *ca = bytes((size_t)channels, 1), *cb = bytes((size_t)channels, 0);
    memcpy(cb, ca, (size_t)channels);
    const float scale = uniform(0.01f, 0.1f), inv = 1.0f / (scale * uniform(0.2f, 1.0f));
    const uint8_t czp = (uint8_t)(next() % 2 ? next() : 0);
    ref_gap(x, bs, channels, pixels, zp, scale, fb, with_codes ? cb : NULL, inv, czp);
    const int code = sn_qu8_global_average_pool(x, bs, channels, pixels, zp, scale, fa, with_codes ? ca : NULL, inv, czp, v);
    char what[160];
    snprintf(what, sizeof what, "gap %s C=%td P=%td zp=%d codes=%d (code %d)", sn_kernels_name(v), channels, pixels, zp, with_codes, code);
    expect(code == 0 && memcmp(fa, fb, sizeof(float) * (size_t)channels) == 0 && memcmp(ca, cb, (size_t)channels) == 0, what);
    free(x); free(fa); free(fb); free(ca); free(cb);
}

static void check_copy(ptrdiff_t groups, ptrdiff_t per_group, ptrdiff_t offset, ptrdiff_t pixels) {
    const ptrdiff_t padded = (per_group + 3) / 4 * 4, in_blocks = groups * padded / 4;
    const ptrdiff_t out_blocks = (offset + groups * per_group + 3) / 4;
    const ptrdiff_t xbs = sn_qu8_block_bytes(pixels) + 64, ybs = sn_qu8_block_bytes(pixels);
    uint8_t *x = bytes((size_t)(in_blocks * xbs), 1), *a = bytes((size_t)(out_blocks * ybs), 1), *b = bytes((size_t)(out_blocks * ybs), 0);
    memcpy(b, a, (size_t)(out_blocks * ybs));
    for (ptrdiff_t g = 0; g < groups; g++)
        for (ptrdiff_t i = 0; i < per_group; i++)
            for (ptrdiff_t p = 0; p < pixels; p++) {
                const ptrdiff_t s = g * padded + i, d = offset + g * per_group + i;
                b[d / 4 * ybs + 4 * p + d % 4] = x[s / 4 * xbs + 4 * p + s % 4];
            }
    const int code = sn_qu8_copy_channels(x, xbs, groups, per_group, a, ybs, offset, pixels);
    char what[160];
    snprintf(what, sizeof what, "copy g=%td n=%td offset=%td P=%td (code %d)", groups, per_group, offset, pixels, code);
    expect(code == 0 && memcmp(a, b, (size_t)(out_blocks * ybs)) == 0, what);
    free(x); free(a); free(b);
}

static void check_dense(const sn_qu8_dense_config *cfg, ptrdiff_t outputs, ptrdiff_t inputs, ptrdiff_t o0, ptrdiff_t o1, uint8_t zp) {
    int8_t *w = malloc((size_t)(outputs * inputs));
    for (ptrdiff_t i = 0; i < outputs * inputs; i++) w[i] = (int8_t)(next() % 255 - 127);
    uint8_t *x = malloc((size_t)inputs);
    for (ptrdiff_t i = 0; i < inputs; i++) x[i] = (uint8_t)next();
    float *m = malloc(sizeof(float) * (size_t)outputs), *b = malloc(sizeof(float) * (size_t)outputs);
    for (ptrdiff_t o = 0; o < outputs; o++) { m[o] = uniform(1e-6f, 1e-3f); b[o] = uniform(-1, 1); }
    float *ya = malloc(sizeof(float) * (size_t)outputs), *yb = malloc(sizeof(float) * (size_t)outputs);
    for (ptrdiff_t o = 0; o < outputs; o++) ya[o] = yb[o] = -12345.0f;
    int error = 0;
    sn_packed_weights *packed = sn_qu8_dense_pack(cfg, w, zp, m, b, outputs, inputs, &error);
    ref_dense(w, x, zp, m, b, yb, o0, o1, inputs);
    const int code = packed ? sn_qu8_dense(cfg, packed, x, ya, o0, o1) : error;
    char what[200];
    snprintf(what, sizeof what, "dense %s %tdx%td %td..<%td zp=%d (code %d)", cfg->name, outputs, inputs, o0, o1, zp, code);
    expect(code == 0 && memcmp(ya, yb, sizeof(float) * (size_t)outputs) == 0, what);
    sn_packed_weights_free(packed);
    free(w); free(x); free(m); free(b); free(ya); free(yb);
}

static void correctness(void) {
    static const ptrdiff_t sizes[] = {1, 2, 3, 5, 7, 14, 15, 28, 33, 56};
    for (int vi = 0; vi < SN_KERNEL_VARIANT_COUNT; vi++) {
        const sn_kernel_variant v = (sn_kernel_variant)vi;
        if (!sn_kernels_supported(v)) {
            printf("skip %s (CPU lacks its features)\n", sn_kernels_name(v));
            continue;
        }
        const int before = checked;
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            const ptrdiff_t s = sizes[si];
            for (ptrdiff_t channels = 1; channels <= 13; channels += 3) {
                const uint8_t zp = (uint8_t)(channels % 2 ? 0 : next());
                check_quantize(v, channels, s * s, 0, s * s, zp);
                check_quantize(v, channels, s * s, s / 3, s * s - s / 2, zp);
                check_gap(v, channels, s * s, zp, 1);
                check_gap(v, channels, s * s, zp, 0);
            }
            for (size_t wi = 0; wi < sizeof sizes / sizeof sizes[0]; wi += 3) {
                const ptrdiff_t w = sizes[(si + wi) % (sizeof sizes / sizeof sizes[0])];
                check_avgpool(v, 3, s, w, 0, 3, 0, 0);
                check_avgpool(v, 5, s, w, 1, 4, (uint8_t)next(), (uint8_t)next());
            }
        }
        check_quantize(v, 24, 3136, 0, 3136, 0);
        check_quantize(v, 24, 3136, 17, 3001, 128);
        check_gap(v, 960, 49, 0, 1);
        check_gap(v, 1024, 49, 37, 1);
        check_avgpool(v, 3, 56, 56, 0, 3, 0, 0);
        check_avgpool(v, 30, 28, 28, 0, 30, 0, 0);
        check_avgpool(v, 60, 14, 14, 7, 60, 0, 3);
        printf("%s: quantize %s, avgpool %s, gap %s: %d cases\n", sn_kernels_name(v), sn_qu8_small_op_kernel_name(0, v),
               sn_qu8_small_op_kernel_name(1, v), sn_qu8_small_op_kernel_name(2, v), checked - before);
    }
    for (size_t i = 0; i < sn_qu8_dense_config_count(); i++) {
        const sn_qu8_dense_config *cfg = sn_qu8_dense_config_at(i);
        if ((cfg->required & ~sn_cpu_features_detected()) != 0) {
            printf("skip %s (CPU lacks its features)\n", cfg->name);
            continue;
        }
        const int before = checked;
        static const ptrdiff_t ks[] = {1, 2, 3, 4, 5, 7, 64, 131, 480, 960};
        static const ptrdiff_t ms[] = {1, 3, 15, 16, 17, 33, 100, 129, 257, 1000};
        for (size_t a = 0; a < 10; a++)
            for (size_t b = 0; b < 10; b++) {
                const ptrdiff_t m = ms[b], k = ks[a];
                check_dense(cfg, m, k, 0, m, (uint8_t)(b % 2 ? 0 : next()));
                if (m > 3) check_dense(cfg, m, k, m / 3, m - m / 4, (uint8_t)next());
            }
        printf("%s: %d cases\n", cfg->name, checked - before);
    }
    for (ptrdiff_t g = 1; g <= 8; g++)
        for (ptrdiff_t n = 1; n <= 23; n += 3) check_copy(g, n, 4 * (g % 3) + n % 4 + (n % 2 ? 0 : 16), n * 3 % 50 + 1);
    check_copy(8, 22, 16, 784);
    printf("correctness: %d cases, %d failures\n", checked, failures);
}

// MARK: - Timing

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);  // CPU time of this thread: robust to time-slicing on a shared machine
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/// Buffers of the timed shapes (0.5x g3's stride-2 units, 1x's classifier, the stem's output).
static struct {
    uint8_t *pool_in[3], *pool_out[3];
    uint8_t *gap_in, *gap_codes, *dense_x;
    float *gap_features, *dense_y, *planes;
    uint8_t *quant_out;
    sn_packed_weights *dense[8][2];
} B;

static const ptrdiff_t pool_blocks[3] = {3, 30, 60}, pool_side[3] = {56, 28, 14};

enum { OP_POOL, OP_GAP, OP_DENSE480, OP_DENSE960, OP_QUANTIZE, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
    "avgpool 3x3 s2, 0.5x g3's three units (12 ch 56x56, 120 ch 28x28, 240 ch 14x14)",
    "global average pool 960 ch x 49 px (+ codes)",
    "dense 1000x480",
    "dense 1000x960",
    "quantize 24 ch x 56x56",
};
static const double op_targets[OP_COUNT] = {10, 3, 8, 15, 6};

static void run_op(int op, sn_kernel_variant v, const sn_qu8_dense_config *dense, size_t di) {
    switch (op) {
    case OP_POOL:
        for (int u = 0; u < 3; u++) {
            const ptrdiff_t s = pool_side[u], o = (s - 1) / 2 + 1;
            sn_qu8_avgpool3x3s2(B.pool_in[u], sn_qu8_block_bytes(s * s), s, s, B.pool_out[u], sn_qu8_block_bytes(o * o), 0,
                                pool_blocks[u], 3, 0.01f / 9, 1.0f / 0.012f, 0, v);
        }
        break;
    case OP_GAP:
        sn_qu8_global_average_pool(B.gap_in, sn_qu8_block_bytes(49), 960, 49, 0, 0.05f, B.gap_features, B.gap_codes, 1.0f / 0.02f, 0, v);
        break;
    case OP_DENSE480: sn_qu8_dense(dense, B.dense[di][0], B.dense_x, B.dense_y, 0, 1000); break;
    case OP_DENSE960: sn_qu8_dense(dense, B.dense[di][1], B.dense_x, B.dense_y, 0, 1000); break;
    case OP_QUANTIZE:
        sn_qu8_quantize_planes(B.planes, 3136, 24, 0, 3136, 1.0f / 0.03f, 0, B.quant_out, sn_qu8_block_bytes(3136), v);
        break;
    }
}

static void timing(int rounds) {
    for (int u = 0; u < 3; u++) {
        B.pool_in[u] = bytes((size_t)(pool_blocks[u] * sn_qu8_block_bytes(pool_side[u] * pool_side[u])), 1);
        B.pool_out[u] = bytes((size_t)(pool_blocks[u] * sn_qu8_block_bytes(pool_side[u] * pool_side[u])), 0);
    }
    B.gap_in = bytes((size_t)(240 * sn_qu8_block_bytes(49)), 1);
    B.gap_codes = bytes(1024, 0);
    B.gap_features = malloc(sizeof(float) * 1024);
    B.dense_x = bytes(1024, 1);
    B.dense_y = malloc(sizeof(float) * 1024);
    B.planes = malloc(sizeof(float) * 24 * 3136);
    for (int i = 0; i < 24 * 3136; i++) B.planes[i] = uniform(-2, 6);
    B.quant_out = bytes((size_t)(6 * sn_qu8_block_bytes(3136)), 0);
    int8_t *w = malloc(1000 * 960);
    for (int i = 0; i < 1000 * 960; i++) w[i] = (int8_t)(next() % 255 - 127);
    float *m = malloc(sizeof(float) * 1000), *b = malloc(sizeof(float) * 1000);
    for (int i = 0; i < 1000; i++) { m[i] = 1e-4f; b[i] = 0.1f; }
    const size_t ndense = sn_qu8_dense_config_count();
    for (size_t i = 0; i < ndense && i < 8; i++) {
        int error;
        B.dense[i][0] = sn_qu8_dense_pack(sn_qu8_dense_config_at(i), w, 7, m, b, 1000, 480, &error);
        B.dense[i][1] = sn_qu8_dense_pack(sn_qu8_dense_config_at(i), w, 7, m, b, 1000, 960, &error);
    }
    printf("\none thread, %d interleaved rounds, medians, microseconds per call\n\n", rounds);
    printf("| operator | target us | variant | micro-kernel | us |\n|---|---:|---|---|---:|\n");
    for (int op = 0; op < OP_COUNT; op++) {
        const int dense = op == OP_DENSE480 || op == OP_DENSE960;
        const size_t count = dense ? ndense : SN_KERNEL_VARIANT_COUNT;
        double samples[8][64];
        for (int r = 0; r < rounds && r < 64; r++) {
            for (size_t i = 0; i < count; i++) {
                const sn_kernel_variant v = (sn_kernel_variant)(dense ? 0 : i);
                const sn_qu8_dense_config *cfg = dense ? sn_qu8_dense_config_at(i) : NULL;
                if (dense ? (cfg->required & ~sn_cpu_features_detected()) != 0 : !sn_kernels_supported(v)) continue;
                // Calls in a loop of about 20 ms (warm caches, as a layer run back to back).
                run_op(op, v, cfg, i);
                int n = 1;
                double t0 = now();
                run_op(op, v, cfg, i);
                double one = now() - t0;
                n = (int)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
                t0 = now();
                for (int k = 0; k < n; k++) run_op(op, v, cfg, i);
                samples[i][r] = (now() - t0) / n * 1e6;
            }
        }
        for (size_t i = 0; i < count; i++) {
            const sn_kernel_variant v = (sn_kernel_variant)(dense ? 0 : i);
            const sn_qu8_dense_config *cfg = dense ? sn_qu8_dense_config_at(i) : NULL;
            if (dense ? (cfg->required & ~sn_cpu_features_detected()) != 0 : !sn_kernels_supported(v)) continue;
            qsort(samples[i], (size_t)rounds, sizeof(double), cmp_double);
            const char *name = dense ? cfg->name : sn_qu8_small_op_kernel_name(op == OP_QUANTIZE ? 0 : op == OP_POOL ? 1 : 2, v);
            printf("| %s | %.0f | %s | %s | %.2f |\n", op_names[op], op_targets[op], dense ? "-" : sn_kernels_name(v), name,
                   samples[i][rounds / 2]);
        }
    }
    // The channel copy takes no cap (the enabled features choose): run with SHUFFLENET_KERNELS=avx2|generic for the others.
    const ptrdiff_t cbs = sn_qu8_block_bytes(784);
    uint8_t *cx = bytes((size_t)(48 * cbs), 1), *cy = bytes((size_t)(48 * cbs), 0);
    double copy[64];
    for (int r = 0; r < rounds && r < 64; r++) {
        double t0 = now();
        for (int k = 0; k < 200; k++) sn_qu8_copy_channels(cx, cbs, 8, 22, cy, cbs, 16, 784);
        copy[r] = (now() - t0) / 200 * 1e6;
    }
    qsort(copy, (size_t)rounds, sizeof(double), cmp_double);
    printf("| channel copy 8 x 22 ch x 784 px after 16 (0.5x g8) | - | enabled (%s) | %s | %.2f |\n",
           sn_kernels_name(sn_kernels_active()), sn_qu8_small_op_kernel_name(3, sn_kernels_active()), copy[rounds / 2]);
}

int main(int argc, char **argv) {
    const int rounds = argc > 1 ? atoi(argv[1]) : 9;
    correctness();
    if (rounds > 0) timing(rounds > 64 ? 64 : rounds);
    return failures != 0;
}
