// The 3x3 stride-2 pooling micro-kernel (max or average), one body for every instruction set. Parameters:
//   SN_POOL_UKERNEL  the function's name, e.g. sn_f32_pool3x3s2_ukernel_16__avx512f (SN_LANES outputs per block)
// Besides the vector layer (vector_layer.h) it needs:
//   SN_MASK                     a set of lanes
//   SN_MASK_INSIDE(start, limit) the lanes l with 0 <= start + l < limit
//   SN_VLOAD_MASKED_OR(pad, m, p) lanes in m from p, the others pad's; reads nothing outside m
//   SN_VEVEN(lo, hi), SN_VODD(lo, hi) the even / odd lanes of the 2 * SN_LANES floats lo, hi
//   SN_VSHIFT_IN(v, s)          s's value (the same in every lane) in lane 0, then v's lanes 0 ..< SN_LANES - 1
//   SN_VMUL(a, b)
//
// One output row per call (a call per block of outputs cost 6% on 56x56 planes). Pooled outputs o ..< o + SN_LANES
// of one output row for every channel in the range: per input row, two masked
// loads give columns 2o ..< 2o + 2 * SN_LANES (the padding value outside the plane), whose even and odd lanes are
// the window's middle and right columns; its left column is the right one moved up a lane, with column 2o - 1 in
// lane 0. Channels innermost, so the masks and row bounds serve them all. Whether the window has a row above
// (`top`) and below (`bottom`) the middle one are constants at each call (SN_POOL_COLUMNS), so the rows are
// straight-line code: a loop over 2 or 3 rows was compiled into branches that made this 3-4 times slower.

SN_INLINE void pool_columns(const sn_pool3x3s2_args *a, ptrdiff_t y, ptrdiff_t o, const int is_max, const int top,
                            const int bottom) {
    const ptrdiff_t width = a->width, out_w = (width - 1) / 2 + 1;
    const float pad = is_max ? -__builtin_inff() : 0.0f;
    const SN_V padding = SN_VSET1(pad);
    const SN_MASK m_lo = SN_MASK_INSIDE(2 * o, width), m_hi = SN_MASK_INSIDE(2 * o + SN_LANES, width);
    const size_t keep = out_w - o < SN_LANES ? (size_t)(out_w - o) : SN_LANES;
    const ptrdiff_t middle_row = (2 * y - a->input_row_base) * width;
    float *out = a->output + y * out_w + o;
    for (ptrdiff_t c = a->channel_begin; c < a->channel_end; c++) {
        const float *middle_line = a->input + c * a->input_plane_stride + 2 * o + middle_row;
        SN_V lo = padding, hi = padding, before = padding;
#pragma clang loop unroll(full)
        for (int r = 0; r < 3; r++) {
            if ((r == 0 && !top) || (r == 2 && !bottom)) continue;
            const float *p = middle_line + (r - 1) * width;
            const SN_V l = SN_VLOAD_MASKED_OR(padding, m_lo, p), h = SN_VLOAD_MASKED_OR(padding, m_hi, p + SN_LANES);
            const SN_V b = SN_VSET1(o > 0 ? p[-1] : pad);
            if (is_max) {
                lo = SN_VMAX(lo, l); hi = SN_VMAX(hi, h); before = SN_VMAX(before, b);
            } else {
                lo = SN_VADD(lo, l); hi = SN_VADD(hi, h); before = SN_VADD(before, b);
            }
        }
        const SN_V middle = SN_VEVEN(lo, hi);         // column 2(o+j)
        const SN_V right = SN_VODD(lo, hi);           // column 2(o+j) + 1
        const SN_V left = SN_VSHIFT_IN(right, before);  // column 2(o+j) - 1
        SN_V v;
        if (is_max) {
            v = SN_VMAX(SN_VMAX(left, middle), right);
        } else {
            v = SN_VMUL(SN_VADD(SN_VADD(left, middle), right), SN_VSET1(1.0f / 9.0f));
        }
        float *dst = out + c * a->output_plane_stride;
        if (SN_MASKED_STORE_IS_FREE || keep < SN_LANES) {
            SN_VSTORE_LANES(dst, v, keep);
        } else {
            SN_VSTORE(dst, v);
        }
    }
}

void SN_POOL_UKERNEL(const sn_pool3x3s2_args *args, ptrdiff_t y, int rows) {
    SN_LOCAL_ARGS(sn_pool3x3s2_args);
    const ptrdiff_t out_w = (a->width - 1) / 2 + 1;
    for (ptrdiff_t o = 0; o < out_w; o += SN_LANES) SN_POOL_COLUMNS(a, y, o, rows);
}
