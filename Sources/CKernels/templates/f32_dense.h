// The dense (fully connected) micro-kernel, one body for every instruction set (see templates/vector_layer.h):
//   SN_DENSE_UKERNEL  the function's name, e.g. sn_f32_dense_ukernel_4x16__avx512f (4 rows, 16-float vectors)
// and, for weights stored in another type (float by default, fp32 arithmetic either way):
//   SN_DENSE_WEIGHT              the weights' element type (uint16_t: binary16 bit patterns, sn_f16_dense_*)
//   SN_DENSE_LOAD_W(p)           SN_LANES weights from p as floats
//   SN_DENSE_LOAD_W_LANES(p, n)  weights 0 ..< n from p as floats, the other lanes zero; nothing past p[n - 1] read
// All of these are undefined at the end, so an ISA file can include the template once per weight type.
//
// R weight rows (R = 4, or 1 for the rows left over) streamed side by side, each with its own accumulator, and the
// rows after them prefetched as these are read: the weights (1000 x 1024 floats at 1x g=8) come from L3 or DRAM
// once per image, so the loop is bound by how many cache lines are in flight, not by the FMAs.

#ifndef SN_DENSE_WEIGHT
#define SN_DENSE_WEIGHT float
#define SN_DENSE_LOAD_W(p) SN_VLOAD(p)
#define SN_DENSE_LOAD_W_LANES(p, n) SN_VLOAD_LANES((p), (n))
#endif
#define SN_DENSE_PASTE2(a, b) a##b
#define SN_DENSE_PASTE(a, b) SN_DENSE_PASTE2(a, b)
#define SN_DENSE_ROWS SN_DENSE_PASTE(SN_DENSE_UKERNEL, _rows)

SN_INLINE void SN_DENSE_ROWS(size_t n, const float *x, const SN_DENSE_WEIGHT *w, const float *bias, float *y, const int R) {
    const size_t rest = n % SN_LANES;
    const char *next = (const char *)(w + R * n);
    SN_V acc[4];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) acc[r] = SN_VZERO();
    size_t i = 0;
    for (; i + SN_LANES <= n; i += SN_LANES) {
        const SN_V xv = SN_VLOAD(x + i);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            SN_PREFETCH(next + (r * n + i) * sizeof(SN_DENSE_WEIGHT));
            acc[r] = SN_VFMA(SN_DENSE_LOAD_W(w + r * n + i), xv, acc[r]);
        }
    }
    // Partial loads read nothing past the end of the row or of the input.
    const SN_V xv = SN_VLOAD_LANES(x + i, rest);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        acc[r] = SN_VFMA(SN_DENSE_LOAD_W_LANES(w + r * n + i, rest), xv, acc[r]);
        y[r] = SN_VREDUCE_ADD(acc[r]) + (bias ? bias[r] : 0.0f);
    }
}

void SN_DENSE_UKERNEL(size_t rows, size_t inputs, const float *input, const SN_DENSE_WEIGHT *weights, const float *bias,
                      float *output) {
    if (rows == 4) {
        SN_DENSE_ROWS(inputs, input, weights, bias, output, 4);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        SN_DENSE_ROWS(inputs, input, weights + r * inputs, bias ? bias + r : NULL, output + r, 1);
    }
}

#undef SN_DENSE_ROWS
#undef SN_DENSE_PASTE
#undef SN_DENSE_PASTE2
#undef SN_DENSE_LOAD_W_LANES
#undef SN_DENSE_LOAD_W
#undef SN_DENSE_WEIGHT
#undef SN_DENSE_UKERNEL
