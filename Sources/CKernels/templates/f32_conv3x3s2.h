// The stem's micro-kernel: a dense 3x3 stride-2 convolution (padding 1, ReLU) straight from the input planes, one
// body for every instruction set. Parameters:
//   SN_CONV3X3S2_UKERNEL   the function's name, e.g. sn_f32_conv3x3s2_ukernel_2x16__avx512f (rows x pixels)
//   SN_CONV3X3S2_MR_ROWS   output rows one call may take (1 or 2)
//   SN_CONV3X3S2_BLOCK(left) the output channels of the next register block (12, 8, 4 or 1) when `left` remain
// Besides the vector layer (vector_layer.h) it needs SN_MASK, SN_MASK_INSIDE, SN_VLOAD_MASKED_OR and SN_VEVEN
// (see f32_pool3x3s2.h).

/// Output channels o ..< o + n (n a constant at each call) for SN_LANES pixels from column x of `rows` (1 or 2,
/// also a constant) consecutive output rows from y, window rows `first ... last` (all three for 2 rows). Each of the
/// 9 * C input vectors (even columns of an input row, from two masked loads: columns outside the plane read as zero,
/// which is the padding) feeds n FMAs, and each broadcast weight feeds `rows` of them: with 2 x 12 accumulators in
/// registers (AVX-512) the loop issues two thirds of a load per FMA instead of more than one.
SN_INLINE void conv3x3s2_block(const sn_conv3x3s2_args *a, const float *weights, const float *bias, ptrdiff_t o,
                               const int n, ptrdiff_t y, const int rows, ptrdiff_t x, int first, int last,
                               const SN_MASK *masks, ptrdiff_t out_w) {
    const ptrdiff_t width = a->width;
    const SN_V zero = SN_VZERO();
    const float *w = weights + o;  // advanced by `outputs` per tap: weights are [C][3][3][outputs]
    SN_V acc[2][12];
    // Every loop over the block fully unrolled, so that the accumulators are registers, not a stack array.
#pragma clang loop unroll(full)
    for (int i = 0; i < rows; i++) {
#pragma clang loop unroll(full)
        for (int r = 0; r < n; r++) acc[i][r] = SN_VSET1(bias[o + r]);
    }
    for (ptrdiff_t c = 0; c < a->input_channels; c++) {
        // Input row 2y - 1 + ky, column 2x + kx - 1 of channel c for window tap (ky, kx).
        const float *base = a->input + c * a->input_plane_stride + (2 * y - 1) * width + 2 * x - 1;
#pragma clang loop unroll(full)
        for (int t = 0; t < 9; t++) {
            const int ky = t / 3, kx = t % 3;
            if (ky >= first && ky <= last) {
                SN_V v[2];
#pragma clang loop unroll(full)
                for (int i = 0; i < rows; i++) {
                    const float *p = base + (2 * i + ky) * width + kx;
                    v[i] = SN_VEVEN(SN_VLOAD_MASKED_OR(zero, masks[2 * kx], p),
                                    SN_VLOAD_MASKED_OR(zero, masks[2 * kx + 1], p + SN_LANES));
                }
#pragma clang loop unroll(full)
                for (int r = 0; r < n; r++) {
                    const SN_V weight = SN_VSET1(w[r]);
#pragma clang loop unroll(full)
                    for (int i = 0; i < rows; i++) acc[i][r] = SN_VFMA(v[i], weight, acc[i][r]);
                }
            }
            w += a->outputs;
        }
    }
    const size_t keep = out_w - x < SN_LANES ? (size_t)(out_w - x) : SN_LANES;
#pragma clang loop unroll(full)
    for (int i = 0; i < rows; i++) {
#pragma clang loop unroll(full)
        for (int r = 0; r < n; r++) {
            float *dst = a->output + (o + r) * a->output_plane_stride + (y + i - a->output_row_base) * out_w + x;
            const SN_V v = SN_VMAX(acc[i][r], zero);
            if (SN_MASKED_STORE_IS_FREE || keep < SN_LANES) {
                SN_VSTORE_LANES(dst, v, keep);
            } else {
                SN_VSTORE(dst, v);
            }
        }
    }
}

/// `conv3x3s2_block` for `rows` (1 or 2) output rows from y, over all output channels in blocks of 12, 8, 4 and 1.
SN_INLINE void conv3x3s2_rows(const sn_conv3x3s2_args *a, const float *weights, const float *bias, ptrdiff_t y,
                              const int rows, int first, int last, ptrdiff_t out_w) {
    for (ptrdiff_t x = 0; x < out_w; x += SN_LANES) {
        // The input rows the next rows of outputs will add (2y+2r+1 ... 2y+2r+4 for r = rows), fetched while these
        // compute: the input of a batch is read once, from DRAM, and a band's rows of three channel planes are
        // more streams than the hardware prefetcher follows.
        for (ptrdiff_t c = 0; c < a->input_channels; c++) {
            for (int k = 1; k <= 2 * rows; k++) {
                const ptrdiff_t r = 2 * y + 2 * rows - 1 + k;
                if (r < a->height) {
                    const char *line = (const char *)(a->input + c * a->input_plane_stride + r * a->width + 2 * x);
                    SN_PREFETCH(line);
                    SN_PREFETCH(line + 64);
                }
            }
        }
        // Per kx, the lanes of the two loads (columns 2x+kx-1 ... and SN_LANES further) that lie inside the plane.
        SN_MASK masks[6];
        for (int kx = 0; kx < 3; kx++) {
            masks[2 * kx] = SN_MASK_INSIDE(2 * x + kx - 1, a->width);
            masks[2 * kx + 1] = SN_MASK_INSIDE(2 * x + kx - 1 + SN_LANES, a->width);
        }
        for (ptrdiff_t o = 0; o < a->outputs;) {
            const int n = SN_CONV3X3S2_BLOCK(a->outputs - o);
            switch (n) {
            case 12: conv3x3s2_block(a, weights, bias, o, 12, y, rows, x, first, last, masks, out_w); break;
            case 8: conv3x3s2_block(a, weights, bias, o, 8, y, rows, x, first, last, masks, out_w); break;
            case 4: conv3x3s2_block(a, weights, bias, o, 4, y, rows, x, first, last, masks, out_w); break;
            default: conv3x3s2_block(a, weights, bias, o, 1, y, rows, x, first, last, masks, out_w); break;
            }
            o += n;
        }
    }
}

void SN_CONV3X3S2_UKERNEL(const sn_conv3x3s2_args *args, const float *weights, const float *bias, ptrdiff_t y, int rows,
                          int first_row, int last_row) {
    SN_LOCAL_ARGS(sn_conv3x3s2_args);
    const ptrdiff_t out_w = (a->width - 1) / 2 + 1;
    // Two rows only where both windows lie wholly inside the plane (the driver's promise).
    if (SN_CONV3X3S2_MR_ROWS >= 2 && rows == 2) {
        conv3x3s2_rows(a, weights, bias, y, 2, 0, 2, out_w);
    } else {
        conv3x3s2_rows(a, weights, bias, y, 1, first_row, last_row, out_w);
    }
}
