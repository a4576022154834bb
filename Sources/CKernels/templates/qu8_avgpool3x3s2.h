// The int8 3x3 stride-2 average pool micro-kernel, one body for every x86 instruction set. Per block and output
// row, SN_QA_PIXELS outputs at a time, from 2 * SN_QA_PIXELS input columns of the window's 3 rows:
//   - each loaded vector (one pixel per 32-bit lane) is split into its even bytes (channels 0 and 2) and odd bytes
//     (1 and 3) as int16 pairs by an and / a shift (ALU work, no shuffle), and the 3 rows are summed vertically;
//   - the column sums are split into even and odd pixels (V[2x], V[2x + 1]: one two-source dword permute each) and
//     the odd ones shifted by a pixel give V[2x - 1] (the previous step's last odd column, or the left padding);
//   - the epilogue widens each int16 half to int32 by shifts, then the scheme's arithmetic per channel:
//     (float)sum * step * inv_out (two rounded products, in that order), cvtps2dq, and the quantize kernel's
//     saturating packs (+ z_out, clamp to 0 ... 255; a min on the bits keeps cvtps2dq in range).
// Padding taps (rows above / below the plane, columns left / right of it) read as the input zero point, so every
// window sums 9 taps: sum over the valid taps of (x - z) = sum_9 - 9z, with no per-window count. Shuffle-port ops
// per 16 outputs: 10 (AVX-512), where widening with vpmovzxbw took 30.
// Included by ukernels_qu8_small_<isa>.c after the quantize kernel's vector layer (SN_QQ_*) and:
//   SN_QA_UKERNEL             the function's name
//   SN_QA_V                   an integer vector of SN_QQ_LANES pixels (32-bit lanes)
//   SN_QA_LOAD(p, n, fill)    pixels 0 ..< n (1 ... SN_QQ_LANES) from p, the others `fill` (4 bytes)
//   SN_QA_SET1_32(x), SN_QA_AND, SN_QA_SRL16_8(v) (each 16-bit lane >> 8), SN_QA_ADD16, SN_QA_SUB16,
//   SN_QA_LO32(v), SN_QA_HI32(v)   the low / high int16 of each 32-bit lane, sign-extended
//   SN_QA_SPLIT(a, b, even, odd)   pixels 0, 2, ... and 1, 3, ... of the 2 * SN_QQ_LANES pixels a, b
//   SN_QA_SHIFT_IN(odd, prev)      [prev's last pixel, odd's pixels 0 ... SN_QQ_LANES - 2]
//   SN_QA_SHIFT_IN_HALVES(odd, pad)  the same in each half of the lanes, pad's pixel first
//   SN_QA_PERMUTE(v, index)        v's pixels (32-bit lanes) as `index` says
//   SN_QA_MIN_BITS(f, bound)       min(f, bound) for a positive bound (float vectors)

/// Adds one window row's codes to the (channels 0, 2) and (1, 3) int16 sums; a row outside the plane (`PRESENT`
/// 0) adds `zrow`, the zero point's pair, so that it contributes exactly nothing after the zero-point subtraction.
SN_INLINE void qa_add_row(const uint8_t *row, ptrdiff_t n, uint32_t fill, SN_QA_V zrow, SN_QA_V mask, SN_QA_V *l,
                          SN_QA_V *h, const int PRESENT) {
    if (PRESENT) {
        const SN_QA_V x = SN_QA_LOAD(row, n, fill);
        *l = SN_QA_ADD16(*l, SN_QA_AND(x, mask));
        *h = SN_QA_ADD16(*h, SN_QA_SRL16_8(x));
    } else {
        *l = SN_QA_ADD16(*l, zrow);
        *h = SN_QA_ADD16(*h, zrow);
    }
}

/// The vertical sums of one step's columns, as (channels 0, 2) and (1, 3) int16 pairs.
SN_INLINE void qa_columns(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, ptrdiff_t n, uint32_t fill,
                          SN_QA_V zrow, SN_QA_V *lo, SN_QA_V *hi, const int TOP, const int BOTTOM) {
    const SN_QA_V mask = SN_QA_SET1_32(0x00ff00ff);
    const SN_QA_V x1 = SN_QA_LOAD(r1, n, fill);
    SN_QA_V l = SN_QA_AND(x1, mask), h = SN_QA_SRL16_8(x1);
    qa_add_row(r0, n, fill, zrow, mask, &l, &h, TOP);
    qa_add_row(r2, n, fill, zrow, mask, &l, &h, BOTTOM);
    *lo = l;
    *hi = h;
}

/// CLAMP: whether (float)sum * step * inv_out can reach 2^31 for some |sum| <= 9 * 255 (the driver checks with the
/// same two rounded products: they are monotonic); when it cannot, cvtps2dq needs no guard.
SN_INLINE SN_QQ_I qa_quantize(SN_QA_V sums32, SN_QQ_F step, SN_QQ_F inv, SN_QQ_F high, const int CLAMP) {
    const SN_QQ_F s = SN_QQ_MUL_F(SN_QQ_MUL_F(SN_QQ_CVT_F(sums32), step), inv);
    return SN_QQ_CVT_RINT(CLAMP ? SN_QA_MIN_BITS(s, high) : s);
}

/// Channels 0 ... 3 of the window sums (`lo`: channels 0 and 2 as int16 pairs, `hi`: 1 and 3), packed with z_out.
SN_INLINE SN_QA_V qa_codes(SN_QA_V lo, SN_QA_V hi, const sn_qu8_avgpool_params *p, const int CLAMP) {
    const SN_QQ_F step = SN_QQ_SET1_F(p->step), inv = SN_QQ_SET1_F(p->out.inv_scale), high = SN_QQ_SET1_F(65536.0f);
    const SN_QQ_I q0 = qa_quantize(SN_QA_LO32(lo), step, inv, high, CLAMP);
    const SN_QQ_I q1 = qa_quantize(SN_QA_LO32(hi), step, inv, high, CLAMP);
    const SN_QQ_I q2 = qa_quantize(SN_QA_HI32(lo), step, inv, high, CLAMP);
    const SN_QQ_I q3 = qa_quantize(SN_QA_HI32(hi), step, inv, high, CLAMP);
    return SN_QQ_PACK(q0, q1, q2, q3, p->out.zero_point);
}

/// One output row of one block; TOP / BOTTOM: whether the window's rows above and below lie inside the plane.
SN_INLINE void qa_row(const uint8_t *x, uint8_t *y, ptrdiff_t iy, ptrdiff_t width, ptrdiff_t ow, const sn_qu8_avgpool_params *p,
                      const int TOP, const int BOTTOM, const int CLAMP) {
    const int32_t z = p->input_zero_point;
    const uint32_t fill = (uint32_t)z * 0x01010101u;
    const SN_QA_V zrow = SN_QA_SET1_32(z | z << 16), pad = SN_QA_SET1_32(3 * z | 3 * z << 16);
    const SN_QA_V nine = SN_QA_SET1_32(9 * z | 9 * z << 16);
    const uint8_t *r1 = x + 4 * iy * width, *r0 = r1 - 4 * width, *r2 = r1 + 4 * width;
    SN_QA_V prev_lo = pad, prev_hi = pad;  // the left padding column: 3 taps of z
    for (ptrdiff_t ox = 0; ox < ow; ox += SN_QQ_LANES) {
        const ptrdiff_t c = 2 * ox;  // the first column of the step (its windows start at c - 1)
        const ptrdiff_t na = width - c < SN_QQ_LANES ? width - c : SN_QQ_LANES;
        const ptrdiff_t nb = width - c - SN_QQ_LANES < SN_QQ_LANES ? width - c - SN_QQ_LANES : SN_QQ_LANES;
        SN_QA_V a_lo, a_hi, b_lo = pad, b_hi = pad;
        qa_columns(r0 + 4 * c, r1 + 4 * c, r2 + 4 * c, na, fill, zrow, &a_lo, &a_hi, TOP, BOTTOM);
        if (nb > 0) {
            const ptrdiff_t d = 4 * (c + SN_QQ_LANES);
            qa_columns(r0 + d, r1 + d, r2 + d, nb, fill, zrow, &b_lo, &b_hi, TOP, BOTTOM);
        }
        SN_QA_V even_lo, odd_lo, even_hi, odd_hi;
        SN_QA_SPLIT(a_lo, b_lo, even_lo, odd_lo);
        SN_QA_SPLIT(a_hi, b_hi, even_hi, odd_hi);
        const SN_QA_V lo = SN_QA_SUB16(SN_QA_ADD16(SN_QA_ADD16(even_lo, odd_lo), SN_QA_SHIFT_IN(odd_lo, prev_lo)), nine);
        const SN_QA_V hi = SN_QA_SUB16(SN_QA_ADD16(SN_QA_ADD16(even_hi, odd_hi), SN_QA_SHIFT_IN(odd_hi, prev_hi)), nine);
        prev_lo = odd_lo;
        prev_hi = odd_hi;
        const ptrdiff_t n = ow - ox < SN_QQ_LANES ? ow - ox : SN_QQ_LANES;
        SN_QQ_STORE(y + 4 * ox, qa_codes(lo, hi, p, CLAMP), (size_t)n);
    }
}

/// Narrow planes (ow <= SN_QQ_LANES / 2, so width <= SN_QQ_LANES): output rows oy and oy + 1 in one step, row oy in
/// the lower half of the lanes and oy + 1 in the upper (the even/odd split of their two column vectors puts them
/// there), so a 7-wide output costs 4 steps per block instead of 7. `compact`: the permute that closes the gap
/// between the two rows' lanes (their outputs are contiguous).
SN_INLINE void qa_rows_paired(const uint8_t *x, uint8_t *y, ptrdiff_t height, ptrdiff_t width, ptrdiff_t oh, ptrdiff_t ow,
                              const sn_qu8_avgpool_params *p, SN_QA_V compact, const int CLAMP) {
    const int32_t z = p->input_zero_point;
    const uint32_t fill = (uint32_t)z * 0x01010101u;
    const SN_QA_V zrow = SN_QA_SET1_32(z | z << 16), pad = SN_QA_SET1_32(3 * z | 3 * z << 16);
    const SN_QA_V nine = SN_QA_SET1_32(9 * z | 9 * z << 16);
    for (ptrdiff_t oy = 0; oy < oh; oy += 2) {
        const uint8_t *r1 = x + 8 * oy * width, *r0 = r1 - 4 * width, *r2 = r1 + 4 * width;
        SN_QA_V a_lo, a_hi, b_lo = pad, b_hi = pad;
        const int below = 2 * oy + 1 < height;
        if (oy == 0) {
            if (below) qa_columns(r0, r1, r2, width, fill, zrow, &a_lo, &a_hi, 0, 1);
            else qa_columns(r0, r1, r2, width, fill, zrow, &a_lo, &a_hi, 0, 0);
        } else {
            if (below) qa_columns(r0, r1, r2, width, fill, zrow, &a_lo, &a_hi, 1, 1);
            else qa_columns(r0, r1, r2, width, fill, zrow, &a_lo, &a_hi, 1, 0);
        }
        const int pair = oy + 1 < oh;
        if (pair) {
            const uint8_t *s1 = r2 + 4 * width, *s2 = s1 + 4 * width;
            if (2 * oy + 3 < height) qa_columns(r2, s1, s2, width, fill, zrow, &b_lo, &b_hi, 1, 1);
            else qa_columns(r2, s1, s2, width, fill, zrow, &b_lo, &b_hi, 1, 0);
        }
        SN_QA_V even_lo, odd_lo, even_hi, odd_hi;
        SN_QA_SPLIT(a_lo, b_lo, even_lo, odd_lo);
        SN_QA_SPLIT(a_hi, b_hi, even_hi, odd_hi);
        const SN_QA_V lo = SN_QA_SUB16(SN_QA_ADD16(SN_QA_ADD16(even_lo, odd_lo), SN_QA_SHIFT_IN_HALVES(odd_lo, pad)), nine);
        const SN_QA_V hi = SN_QA_SUB16(SN_QA_ADD16(SN_QA_ADD16(even_hi, odd_hi), SN_QA_SHIFT_IN_HALVES(odd_hi, pad)), nine);
        SN_QQ_STORE(y + 4 * oy * ow, SN_QA_PERMUTE(qa_codes(lo, hi, p, CLAMP), compact), (size_t)(pair ? 2 * ow : ow));
    }
}

void SN_QA_UKERNEL(const uint8_t *input, ptrdiff_t input_block_stride, uint8_t *output, ptrdiff_t output_block_stride,
                   size_t blocks, ptrdiff_t height, ptrdiff_t width, const sn_qu8_avgpool_params *params) {
    const sn_qu8_avgpool_params p = *params;
    const ptrdiff_t oh = (height - 1) / 2 + 1, ow = (width - 1) / 2 + 1;
    if (2 * ow <= SN_QQ_LANES) {
        int32_t lanes[SN_QQ_LANES];
        for (int i = 0; i < SN_QQ_LANES; i++) lanes[i] = i < ow ? i : i < 2 * ow ? i - (int)ow + SN_QQ_LANES / 2 : 0;
        const SN_QA_V compact = SN_QA_LOAD((const uint8_t *)lanes, SN_QQ_LANES, 0);
        for (size_t b = 0; b < blocks; b++) {
            const uint8_t *x = input + (ptrdiff_t)b * input_block_stride;
            uint8_t *y = output + (ptrdiff_t)b * output_block_stride;
            if (p.clamp) qa_rows_paired(x, y, height, width, oh, ow, &p, compact, 1);
            else qa_rows_paired(x, y, height, width, oh, ow, &p, compact, 0);
        }
        return;
    }
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *x = input + (ptrdiff_t)b * input_block_stride;
        uint8_t *y = output + (ptrdiff_t)b * output_block_stride;
        // The first row (no row above), the middle ones, the last (no row below when the height is even).
        ptrdiff_t oy = 0;
        if (p.clamp) {
            if (2 * oy + 1 < height) qa_row(x, y, 0, width, ow, &p, 0, 1, 1);
            else qa_row(x, y, 0, width, ow, &p, 0, 0, 1);
            for (oy = 1; oy < oh && 2 * oy + 1 < height; oy++) qa_row(x, y + 4 * oy * ow, 2 * oy, width, ow, &p, 1, 1, 1);
            if (oy < oh) qa_row(x, y + 4 * oy * ow, 2 * oy, width, ow, &p, 1, 0, 1);
        } else {
            if (2 * oy + 1 < height) qa_row(x, y, 0, width, ow, &p, 0, 1, 0);
            else qa_row(x, y, 0, width, ow, &p, 0, 0, 0);
            for (oy = 1; oy < oh && 2 * oy + 1 < height; oy++) qa_row(x, y + 4 * oy * ow, 2 * oy, width, ow, &p, 1, 1, 0);
            if (oy < oh) qa_row(x, y + 4 * oy * ow, 2 * oy, width, ow, &p, 1, 0, 0);
        }
    }
}
