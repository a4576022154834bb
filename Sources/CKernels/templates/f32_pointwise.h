// The pointwise (grouped 1x1) micro-kernel, one body for every instruction set: included by ukernels_<isa>.c
// after its vector layer (templates/vector_layer.h lists the macros) and these parameters:
//   SN_POINTWISE_UKERNEL  the function's name, e.g. sn_f32_pointwise_ukernel_8x48__avx512f
//   SN_POINTWISE_MR       output channels per register tile (the packed panels' height), at most 8
//   SN_POINTWISE_NV       vectors of pixels per register tile (1 ... 4); NR = NV * SN_LANES
//   SN_POINTWISE_TAIL_MAX pixels after the last whole vector computed as channel lanes (0, or 4 with SN_LANES >= MR)
//
// MR x NV accumulators stay in registers while the loop streams over the group's K inputs: each input vector
// loaded feeds MR FMAs and each broadcast weight NV of them. With AVX-512 8 x 3 measured as fast as 6 x 4 on 56x56
// planes and faster on 14x14 and 7x7, whose 12 and 3 vectors it divides; AVX2's 16 registers hold 6 x 2.
//
// The tail pixels are turned around: the R weights of one input are one vector (the panel stores them side by
// side), multiplied by the tail pixel's input broadcast, so a tail pixel costs one FMA per input for all R
// channels, where a whole pixel vector would cost R FMAs. A 7x7 plane (49 pixels) then costs 3 vectors plus a lane
// instead of 4 vectors, and 14x14 (196) 12 plus 4 lanes instead of 13.

#if SN_POINTWISE_NV > 4 || SN_POINTWISE_MR > 8 || (SN_POINTWISE_TAIL_MAX > 0 && SN_LANES < SN_POINTWISE_MR)
#error "unsupported pointwise tile"
#endif

/// `bias + sum` (the accumulator started at the bias) through the epilogue, stored at `out`; the residual, when
/// the epilogue adds one, is at `res + offset`.
SN_INLINE void pw_finish(const sn_f32_pointwise_params *a, SN_V v, float *out, const float *res, ptrdiff_t offset) {
    if (a->epilogue != SN_EPILOGUE_LINEAR) {
        if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) v = SN_VADD(v, SN_VLOAD(res + offset));
        v = SN_VMAX(v, SN_VZERO());
    }
    SN_VSTORE(out, v);
}

/// Rows of one panel a register tile computes: the panel's weights for its first row (channel `r`'s weight for input
/// `i` at `weights[i * width + r]`), and that row's bias, output plane and residual plane (NULL without one).
typedef struct pw_panel {
    const float *weights;
    ptrdiff_t width;
    const float *bias;
    float *output;
    const float *residual;
} pw_panel;

/// Channels 0 ..< R of panel `t` at P vectors of pixels from `p`, then (TC > 0) at `tail` pixels after them: TC = 1
/// computes one tail pixel, TC = 4 computes 4 and stores `tail` of them (the others read the plane's padding). R, P
/// and TC are constants at every call.
SN_INLINE void pw_block(const sn_f32_pointwise_params *a, const float *input, const pw_panel *t, ptrdiff_t p,
                        const int R, const int P, const int TC, int tail) {
    const ptrdiff_t k = a->inputs, xs = a->input_plane_stride, os = a->output_plane_stride;
    const ptrdiff_t rs = a->residual_plane_stride, ws = t->width;
    const float *wp = t->weights;
    SN_V acc[8][4];  // only [R][P] is used: the rest is optimised away
    // The accumulators start at the bias, so the epilogue only adds the residual (if any) and clamps.
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        const SN_V bias = SN_VSET1(t->bias[r]);
#pragma clang loop unroll(full)
        for (int j = 0; j < P; j++) acc[r][j] = bias;
    }
#if SN_POINTWISE_TAIL_MAX > 0
    SN_V tacc[4];  // channel r in lane r
#pragma clang loop unroll(full)
    for (int c = 0; c < TC; c++) tacc[c] = SN_VLOAD_LANES(t->bias, R);
#endif
    const float *xp = input + p;
    // The next panel's weights (the ws * k floats after this one) are fetched while this block computes, ws floats
    // per step: weights mostly live in L3 (a layer's can exceed L2), and a block starting on a cold panel would
    // otherwise stall on each of its cache lines.
    const char *next = (const char *)(wp + ws * k);
    for (ptrdiff_t i = 0; i < k; i++, xp += xs, wp += ws) {
        SN_PREFETCH(next + (size_t)(i * ws) * sizeof(float));
        SN_V xv[4];
#pragma clang loop unroll(full)
        for (int j = 0; j < P; j++) xv[j] = SN_VLOAD(xp + SN_LANES * j);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            const SN_V c = SN_VSET1(wp[r]);
#pragma clang loop unroll(full)
            for (int j = 0; j < P; j++) acc[r][j] = SN_VFMA(xv[j], c, acc[r][j]);
        }
#if SN_POINTWISE_TAIL_MAX > 0
        if (TC > 0) {
            const SN_V wv = SN_VLOAD_LANES(wp, R);
#pragma clang loop unroll(full)
            for (int c = 0; c < TC; c++) tacc[c] = SN_VFMA(wv, SN_VSET1(xp[SN_LANES * P + c]), tacc[c]);
        }
#endif
    }
    float *out = t->output + p;
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < P; j++) pw_finish(a, acc[r][j], out + r * os + SN_LANES * j, t->residual, r * rs + p + SN_LANES * j);
    }
#if SN_POINTWISE_TAIL_MAX > 0
    if (TC > 0) {
        // A handful of values per block: through memory, one by one.
        float sums[4][SN_LANES];
#pragma clang loop unroll(full)
        for (int c = 0; c < TC; c++) SN_VSTORE(sums[c], tacc[c]);
        const ptrdiff_t q = p + SN_LANES * P;
        for (int c = 0; c < tail; c++) {
            for (int r = 0; r < R; r++) {
                float v = sums[c][r];
                if (a->epilogue != SN_EPILOGUE_LINEAR) {
                    if (a->epilogue == SN_EPILOGUE_ADD_RESIDUAL_RELU) v += t->residual[r * rs + q + c];
                    v = v > 0.0f ? v : 0.0f;
                }
                out[r * os + SN_LANES * P + c] = v;
            }
        }
    }
#else
    (void)TC;
    (void)tail;
#endif
}

/// A block of P vectors (a constant) when the tile has that many (dead code otherwise).
#define SN_PW_BLOCK(P, TC, tail) \
    do { if ((P) <= SN_POINTWISE_NV) pw_block(a, input, t, p, R, (P), (TC), (tail)); } while (0)

/// `pw_block` with `tail` (1 ... SN_POINTWISE_TAIL_MAX) tail pixels after P vectors.
#define SN_PW_TAIL_BLOCK(P) \
    do { if (tail == 1) SN_PW_BLOCK(P, 1, 1); else SN_PW_BLOCK(P, 4, tail); } while (0)

/// R channels (a constant) of panel `t` over `vectors` vectors of pixels in blocks of NV, then one of what is left;
/// with `tail` pixels after them, the last block takes them.
SN_INLINE void pw_rows(const sn_f32_pointwise_params *a, const float *input, const pw_panel *t, ptrdiff_t vectors,
                       const int tail, const int R) {
    ptrdiff_t n = vectors, p = 0;
    ptrdiff_t last = n % SN_POINTWISE_NV;
    if (tail > 0 && last == 0 && n >= SN_POINTWISE_NV) last = SN_POINTWISE_NV;
    for (; n > last; n -= SN_POINTWISE_NV, p += SN_LANES * SN_POINTWISE_NV) pw_block(a, input, t, p, R, SN_POINTWISE_NV, 0, 0);
    if (tail == 0) {
        switch (last) {
        case 3: SN_PW_BLOCK(3, 0, 0); break;
        case 2: SN_PW_BLOCK(2, 0, 0); break;
        case 1: SN_PW_BLOCK(1, 0, 0); break;
        default: break;
        }
        return;
    }
#if SN_POINTWISE_TAIL_MAX > 0
    switch (last) {
    case 4: SN_PW_TAIL_BLOCK(4); break;
    case 3: SN_PW_TAIL_BLOCK(3); break;
    case 2: SN_PW_TAIL_BLOCK(2); break;
    case 1: SN_PW_TAIL_BLOCK(1); break;
    default: SN_PW_TAIL_BLOCK(0); break;
    }
#endif
}

/// Every row count up to MR gets its own straight-line code (the accumulators are registers only when R is a
/// constant).
#define SN_PW_ROWS(R) \
    case R: if ((R) <= SN_POINTWISE_MR) pw_rows(&a, t.input, &panel, vectors, tail, (R)); break;

void SN_POINTWISE_UKERNEL(const sn_f32_pointwise_tile *tile, const sn_f32_pointwise_params *params) {
    // Local copies: vector stores may alias anything, so fields read through the pointers would be reloaded.
    const sn_f32_pointwise_params a = *params;
    const sn_f32_pointwise_tile t = *tile;
    const ptrdiff_t k = a.inputs, end = (ptrdiff_t)t.end, vectors = (ptrdiff_t)t.vectors;
    const int tail = (int)t.tail;
    for (ptrdiff_t o = (ptrdiff_t)t.begin; o < end;) {
        const sn_panel_rows w = sn_panel_rows_at(t.weights, k, (ptrdiff_t)t.panel_narrow, (ptrdiff_t)t.panel_wide, o, end);
        const pw_panel panel = {
            .weights = w.weights,
            .width = w.width,
            .bias = t.bias + o,
            .output = t.output + o * a.output_plane_stride,
            .residual = t.residual ? t.residual + o * a.residual_plane_stride : NULL,
        };
        switch (w.rows) {
        SN_PW_ROWS(8)
        SN_PW_ROWS(7)
        SN_PW_ROWS(6)
        SN_PW_ROWS(5)
        SN_PW_ROWS(4)
        SN_PW_ROWS(3)
        SN_PW_ROWS(2)
        default: pw_rows(&a, t.input, &panel, vectors, tail, 1); break;
        }
        o += w.rows;
    }
}

#undef SN_PW_BLOCK
#undef SN_PW_TAIL_BLOCK
#undef SN_PW_ROWS
