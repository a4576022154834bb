// The dense (fully connected) micro-kernel, one body for every instruction set (see templates/vector_layer.h):
//   SN_DENSE_UKERNEL  the function's name, e.g. sn_f32_dense_ukernel_4x16__avx512f (4 rows, 16-float vectors)
//
// R weight rows (R = 4, or 1 for the rows left over) streamed side by side, each with its own accumulator, and the
// rows after them prefetched as these are read: the weights (1000 x 1024 floats at 1x g=8) come from L3 or DRAM
// once per image, so the loop is bound by how many cache lines are in flight, not by the FMAs.

SN_INLINE void dense_rows(size_t n, const float *x, const float *w, const float *bias, float *y, const int R) {
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
            SN_PREFETCH(next + (r * n + i) * sizeof(float));
            acc[r] = SN_VFMA(SN_VLOAD(w + r * n + i), xv, acc[r]);
        }
    }
    // Partial loads read nothing past the end of the row or of the input.
    const SN_V xv = SN_VLOAD_LANES(x + i, rest);
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        acc[r] = SN_VFMA(SN_VLOAD_LANES(w + r * n + i, rest), xv, acc[r]);
        y[r] = SN_VREDUCE_ADD(acc[r]) + (bias ? bias[r] : 0.0f);
    }
}

void SN_DENSE_UKERNEL(size_t rows, size_t inputs, const float *input, const float *weights, const float *bias,
                      float *output) {
    if (rows == 4) {
        dense_rows(inputs, input, weights, bias, output, 4);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        dense_rows(inputs, input, weights + r * inputs, bias ? bias + r : NULL, output + r, 1);
    }
}
