// The int8 dense (classifier) micro-kernel, one body for every x86 instruction set: u8 inputs broadcast a quad at a
// time, s8 weights packed by `sn_qu8_dense_pack` (panels of 16 rows, each quad's 16 x 4 weights side by side),
// exact int32 sums, `fmaf(float(acc), multiplier, bias)`. Included by ukernels_qu8_small_<isa>.c after its vector
// layer:
//   SN_QD_UKERNEL       the function's name, e.g. sn_qu8_dense_ukernel_128__avx512vnni
//   SN_QD_LANES         int32 lanes (output rows) per vector: 16 or 8; a panel is 16 / SN_QD_LANES vectors
//   SN_QD_MAX_PANELS    panels per tile (the configuration's mr / 16)
//   SN_QD_I, SN_QD_F    int32 and float vectors; SN_QD_X a broadcast input quad (SN_QD_XBCAST(uint32 quad))
//   SN_QD_DOT(acc, x, p)  acc + per lane (row) the dot product of the quad x with the row's 4 s8 weights at p
//   SN_QD_LOAD_I(p), SN_QD_LOAD_F(p), SN_QD_CVT_F(i), SN_QD_FMA(a, b, c) (fused, as fmaf)
//   SN_QD_STORE_F(p, v, first, count)   lanes first ..< first + count of v to p + first
//
// Every accumulator of the tile stays in a register while the loop streams over the quads: one broadcast of the
// input quad feeds every panel of the tile.

#define SN_QD_VPP (16 / SN_QD_LANES)

SN_INLINE void qd_tile(const sn_qu8_dense_tile *t, const int NV) {
    SN_QD_I acc[SN_QD_MAX_PANELS * SN_QD_VPP];
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) acc[v] = SN_QD_LOAD_I(t->terms + v * SN_QD_LANES);
    const size_t stride = t->quads * 64;
    const int8_t *w = t->weights;
    const uint8_t *x = t->input;
    for (size_t q = 0; q < t->full_quads; q++, w += 64) {
        uint32_t quad;
        memcpy(&quad, x + 4 * q, 4);
        const SN_QD_X xq = SN_QD_XBCAST(quad);
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[v] = SN_QD_DOT(acc[v], xq, w + (size_t)(v / SN_QD_VPP) * stride + (size_t)(v % SN_QD_VPP) * SN_QD_LANES * 4);
    }
    if (t->quads > t->full_quads) {
        const SN_QD_X xq = SN_QD_XBCAST(t->tail_quad);
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[v] = SN_QD_DOT(acc[v], xq, w + (size_t)(v / SN_QD_VPP) * stride + (size_t)(v % SN_QD_VPP) * SN_QD_LANES * 4);
    }
    const ptrdiff_t begin = (ptrdiff_t)t->begin, end = (ptrdiff_t)t->end;
#pragma clang loop unroll(full)
    for (int v = 0; v < NV; v++) {
        const ptrdiff_t first = v * SN_QD_LANES;
        if (first + SN_QD_LANES <= begin || first >= end) continue;
        const SN_QD_F y = SN_QD_FMA(SN_QD_CVT_F(acc[v]), SN_QD_LOAD_F(t->multipliers + first), SN_QD_LOAD_F(t->bias + first));
        const ptrdiff_t lo = begin > first ? begin - first : 0, hi = end < first + SN_QD_LANES ? end - first : SN_QD_LANES;
        SN_QD_STORE_F(t->output + first, y, lo, hi - lo);
    }
}

void SN_QD_UKERNEL(const sn_qu8_dense_tile *tile) {
    const sn_qu8_dense_tile t = *tile;
    switch (t.panels) {
#if SN_QD_MAX_PANELS >= 8
    case 8: qd_tile(&t, 8 * SN_QD_VPP); break;
    case 7: qd_tile(&t, 7 * SN_QD_VPP); break;
    case 6: qd_tile(&t, 6 * SN_QD_VPP); break;
    case 5: qd_tile(&t, 5 * SN_QD_VPP); break;
#endif
    case 4: qd_tile(&t, 4 * SN_QD_VPP); break;
    case 3: qd_tile(&t, 3 * SN_QD_VPP); break;
    case 2: qd_tile(&t, 2 * SN_QD_VPP); break;
    default: qd_tile(&t, 1 * SN_QD_VPP); break;
    }
}

#undef SN_QD_VPP
