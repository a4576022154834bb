// The int8 3x3 stride-2 average pool micro-kernel, one body for every x86 instruction set. Per block and output
// row, SN_QA_PIXELS outputs at a time: the 3 input rows' 2 * SN_QA_PIXELS columns are widened to int16 (4 lanes per
// pixel) and summed vertically, the column sums split into even and odd pixels (V[2x] and V[2x + 1]), and the odd
// ones shifted by one pixel give V[2x - 1] (the previous step's last odd column, or the left padding): 3 adds give
// the window sums. Padding taps (rows above and below the plane, columns left and right of it) read as the input
// zero point, so every window sums 9 taps and `sum_valid (x - z) = sum_9 - 9z` with no per-window count. The
// epilogue is the scheme's: (float)sum * step * inv_out (two rounded products, in that order), rint, + z_out,
// clamped by saturating packs (a min keeps cvtps2dq in range). Included by ukernels_qu8_small_<isa>.c after its
// vector layer:
//   SN_QA_UKERNEL             the function's name
//   SN_QA_PIXELS              pixels per int16 vector (8 or 4)
//   SN_QA_V                   int16 vector: SN_QA_PIXELS pixels x 4 channels
//   SN_QA_LOAD(p, n, fill)    pixels 0 ..< n (1 ... SN_QA_PIXELS) from p widened to int16, the others `fill`'s
//   SN_QA_SET1(x), SN_QA_ADD(a, b), SN_QA_SUB(a, b)
//   SN_QA_SPLIT(a, b, even, odd)   pixels 0, 2, ... and 1, 3, ... of the 2 * SN_QA_PIXELS pixels a, b
//   SN_QA_SHIFT_IN(odd, prev) [prev's last pixel, odd's pixels 0 ... SN_QA_PIXELS - 2]
//   SN_QA_STORE(p, sums, n, params)   the epilogue of n output pixels from their int16 window sums (minus 9z)

SN_INLINE SN_QA_V qa_column_sums(const uint8_t *row0, const uint8_t *row1, const uint8_t *row2, ptrdiff_t n, SN_QA_V zrow,
                                 const int TOP, const int BOTTOM, const uint32_t fill) {
    SN_QA_V v = SN_QA_LOAD(row1, n, fill);
    v = SN_QA_ADD(v, TOP ? SN_QA_LOAD(row0, n, fill) : zrow);
    return SN_QA_ADD(v, BOTTOM ? SN_QA_LOAD(row2, n, fill) : zrow);
}

/// One output row of one block; TOP / BOTTOM: whether the window's rows above and below lie inside the plane.
SN_INLINE void qa_row(const uint8_t *x, uint8_t *y, ptrdiff_t iy, ptrdiff_t width, ptrdiff_t ow, const sn_qu8_avgpool_params *p,
                      const int TOP, const int BOTTOM) {
    const uint32_t fill = (uint32_t)p->input_zero_point * 0x01010101u;
    const SN_QA_V zrow = SN_QA_SET1((short)p->input_zero_point), nine = SN_QA_SET1((short)(9 * p->input_zero_point));
    const uint8_t *r1 = x + 4 * iy * width, *r0 = r1 - 4 * width, *r2 = r1 + 4 * width;
    SN_QA_V prev = SN_QA_SET1((short)(3 * p->input_zero_point));  // the left padding column: 3 taps of z
    for (ptrdiff_t ox = 0; ox < ow; ox += SN_QA_PIXELS) {
        const ptrdiff_t c = 2 * ox;  // the first column of the step (its window starts at c - 1)
        const ptrdiff_t na = width - c < SN_QA_PIXELS ? width - c : SN_QA_PIXELS;
        const ptrdiff_t nb = width - c - SN_QA_PIXELS < SN_QA_PIXELS ? width - c - SN_QA_PIXELS : SN_QA_PIXELS;
        const SN_QA_V a = qa_column_sums(r0 + 4 * c, r1 + 4 * c, r2 + 4 * c, na, zrow, TOP, BOTTOM, fill);
        const SN_QA_V b = nb > 0 ? qa_column_sums(r0 + 4 * (c + SN_QA_PIXELS), r1 + 4 * (c + SN_QA_PIXELS),
                                                  r2 + 4 * (c + SN_QA_PIXELS), nb, zrow, TOP, BOTTOM, fill)
                                 : SN_QA_SET1((short)(3 * p->input_zero_point));
        SN_QA_V even, odd;
        SN_QA_SPLIT(a, b, even, odd);
        const SN_QA_V sums = SN_QA_SUB(SN_QA_ADD(SN_QA_ADD(even, odd), SN_QA_SHIFT_IN(odd, prev)), nine);
        prev = odd;
        const ptrdiff_t n = ow - ox < SN_QA_PIXELS ? ow - ox : SN_QA_PIXELS;
        SN_QA_STORE(y + 4 * ox, sums, n, p);
    }
}

void SN_QA_UKERNEL(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output, ptrdiff_t output_block_stride,
                   size_t blocks, ptrdiff_t height, ptrdiff_t width, const sn_qu8_avgpool_params *params) {
    const sn_qu8_avgpool_params p = *params;
    const ptrdiff_t oh = (height - 1) / 2 + 1, ow = (width - 1) / 2 + 1;
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *x = input + (ptrdiff_t)b * input_block_stride;
        uint8_t *y = output + (ptrdiff_t)b * output_block_stride;
        for (ptrdiff_t oy = 0; oy < oh; oy++) {
            const int top = oy > 0, bottom = 2 * oy + 1 < height;
            uint8_t *row = y + 4 * oy * ow;
            if (top && bottom) qa_row(x, row, 2 * oy, width, ow, &p, 1, 1);
            else if (top) qa_row(x, row, 2 * oy, width, ow, &p, 1, 0);
            else if (bottom) qa_row(x, row, 2 * oy, width, ow, &p, 0, 1);
            else qa_row(x, row, 2 * oy, width, ow, &p, 0, 0);
        }
    }
}
