// The int8 pointwise (grouped 1x1) micro-kernel, one body for every instruction set: u8 activations in channel
// blocks (`[C/4][pixels][4]`, see shufflenet_kernels.h), s8 weights packed by `sn_qu8_pointwise_pack`, exact int32
// sums, the scheme's fp32 epilogue. Included by ukernels_qu8_<isa>.c after its vector layer and these parameters:
//   SN_QPW_UKERNEL  the function's name, e.g. sn_qu8_pointwise_ukernel_8x48__avx512vnni
//   SN_QPW_MR       padded output rows per register tile: 4 or 8 (the packed panels' height)
//   SN_QPW_NV       vectors of pixels per register tile (1 ... 4); NR = NV * SN_QLANES
//   SN_QPW_TAIL(a, panel, p, tail, R, RELU, RES, ZP0)   optional: computes `tail` (1 ... 4) pixels from pixel p
//                   for R rows with the rows in the lanes (the ISA file's; configurations without it have
//                   tail_max 0)
//
// The vector layer (int32 lanes, one pixel per lane):
//   SN_QI, SN_QF          int32 and float vectors of SN_QLANES lanes
//   SN_QX, SN_QLOADX(p)   an input operand: SN_QLANES pixels x 4 channels (4 * SN_QLANES bytes from p)
//   SN_QW, SN_QLOADW(p)   a weight operand: one row's quad (SN_QB bytes from p, the packed layout's) in every lane
//   SN_QDOT(acc, x, w)    acc + per lane sum_j x_j * w_j (u8 x s8, exact: `vpdpbusd`, or `vpmaddwd` on 16 bits)
//   SN_QZERO(), SN_QSET1_I(x), SN_QADD_I, SN_QSUB_I, SN_QAND_I, SN_QOR_I, SN_QOR3_I(a, b, c),
//   SN_QSLL_8/16/24(v), SN_QSRL_8/16/24(v)          shifts of each 32-bit lane by a constant
//   SN_QLOAD_I(p), SN_QSTORE_I(p, v)                 unaligned, 4 * SN_QLANES bytes
//   SN_QCVT_F(i)          int32 -> float, round to nearest even (cvtdq2ps)
//   SN_QSET1_F(x), SN_QMUL_F, SN_QMAX_F, SN_QMIN_F, SN_QFMA_F(a, b, c) = a * b + c fused (exactly as `fmaf`)
//   SN_QCVT_RINT(f)       float -> int32, rounding half to even (cvtps2dq under the default MXCSR)
//   SN_QBYTE(words, n)    byte n (0 ... 3, a constant) of each 32-bit lane, zero-extended
//   SN_QPACK4(q0, ... q3) rows 0 ... 3 (int32 lanes <= 255) as one block vector: byte 4p + r = row r's lane p,
//                         each value saturated below at 0 when SN_QPACK_SATURATES is 1 (x86's packus), else >= 0
//
// MR x NV int32 accumulators stay in registers while the loop streams over the group's quads of inputs: each
// input vector loaded feeds MR dot products, each broadcast weight quad NV of them. The epilogue turns each 4-row
// group of accumulators into one 16-pixel x 4-channel block store.

#if SN_QPW_NV > 4 || (SN_QPW_MR != 4 && SN_QPW_MR != 8)
#error "unsupported int8 pointwise tile"
#endif

/// The rows of one panel a register tile computes: its weights at the tile's first row (rows `width` apart
/// within each quad), and the per-row constants, output and residual blocks at that row.
typedef struct qpw_panel {
    const int8_t *weights;
    ptrdiff_t width;
    const int32_t *terms;
    const float *multipliers;
    const float *bias;
    const float *inv_out;
    const int32_t *zero_out;
    const float *low;
    const float *high;
    const uint8_t *input;
    uint8_t *output;
    const uint8_t *residual;
} qpw_panel;

/// Row r's codes (0 ... 255 in each int32 lane) from its accumulator (which started at the row's term); `res` is
/// the residual's channel of row r (0 ... 255 per lane) when `has_res`.
///
/// Fewer steps than the formula, same results: for integers lo <= hi, rint(clamp(s, lo, hi)) = clamp(rint(s), lo,
/// hi) (rint is monotonic and keeps integers), so clamp(rint(s) + z, 0, 255) = rint(clamp(s, -z, 255 - z)) + z with
/// no integer clamp; and since inv_out > 0, rint(max(v, 0) * inv) = rint(max(v * inv, 0)), so the ReLU is the lower
/// bound max(-z, 0) = 0. Clamping before the conversion also keeps cvtps2dq in range.
///
/// ZP0 (a constant): every output zero point and the residual's are 0, as the scheme has them after every ReLU.
/// Then nothing is added, and with a saturating pack the ReLU is that saturation: max(rint(s), 0) = rint(max(s, 0)).
SN_INLINE SN_QI qpw_codes(const sn_qu8_pointwise_params *a, const qpw_panel *t, int r, SN_QI acc, SN_QI res,
                          const int RELU, const int RES, const int ZP0) {
    SN_QF v = SN_QFMA_F(SN_QCVT_F(acc), SN_QSET1_F(t->multipliers[r]), SN_QSET1_F(t->bias[r]));
    if (RES) {
        const SN_QF rf = SN_QCVT_F(ZP0 ? res : SN_QSUB_I(res, SN_QSET1_I(a->residual_zero_point)));
        v = SN_QFMA_F(rf, SN_QSET1_F(a->residual_scale), v);
    }
    SN_QF s = SN_QMUL_F(v, SN_QSET1_F(t->inv_out[r]));
#if SN_QPACK_SATURATES
    // The pack's saturation at 0 is the lower clamp (a cvtps2dq overflow, INT_MIN, saturates to 0 too, which is
    // right: it only happens far below); the upper one keeps cvtps2dq in range.
    if (RELU && !ZP0) s = SN_QMAX_F(s, SN_QSET1_F(0.0f));
    s = SN_QMIN_F(s, SN_QSET1_F(t->high[r]));
#else
    s = SN_QMIN_F(SN_QMAX_F(s, RELU ? SN_QSET1_F(0.0f) : SN_QSET1_F(t->low[r])), SN_QSET1_F(t->high[r]));
#endif
    const SN_QI q = SN_QCVT_RINT(s);
    return ZP0 ? q : SN_QADD_I(q, SN_QSET1_I(t->zero_out[r]));
}

/// Rows 0 ..< R of panel `t` at P vectors of pixels from vector `p`. R and P are constants at every call.
SN_INLINE void qpw_block(const sn_qu8_pointwise_params *a, const qpw_panel *t, ptrdiff_t p, const int R, const int P,
                          const int RELU, const int RES, const int ZP0) {
    SN_QI acc[8][4];  // only [R][P] is used
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        const SN_QI term = SN_QSET1_I(t->terms[r]);  // -sum_k W z_k: the sums start there
#pragma clang loop unroll(full)
        for (int j = 0; j < P; j++) acc[r][j] = term;
    }
    const ptrdiff_t xs = a->input_block_stride, ws = t->width * SN_QB, quads = a->quads;
    const uint8_t *xp = t->input + p * SN_QLANES * 4;
    const int8_t *wp = t->weights;
    for (ptrdiff_t q = 0; q < quads; q++, xp += xs, wp += ws) {
        SN_QX x[4];
#pragma clang loop unroll(full)
        for (int j = 0; j < P; j++) x[j] = SN_QLOADX(xp + SN_QLANES * 4 * j);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            const SN_QW w = SN_QLOADW(wp + r * SN_QB);
#pragma clang loop unroll(full)
            for (int j = 0; j < P; j++) acc[r][j] = SN_QDOT(acc[r][j], x[j], w);
        }
    }
#pragma clang loop unroll(full)
    for (int b = 0; b < R / 4; b++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < P; j++) {
            const ptrdiff_t at = (p + j) * SN_QLANES * 4;
            // Read before the store below: the residual may be the output itself.
            const SN_QI words = RES ? SN_QLOAD_I(t->residual + b * a->residual_block_stride + at) : SN_QZERO();
            const SN_QI q0 = qpw_codes(a, t, 4 * b + 0, acc[4 * b + 0][j], SN_QBYTE(words, 0), RELU, RES, ZP0);
            const SN_QI q1 = qpw_codes(a, t, 4 * b + 1, acc[4 * b + 1][j], SN_QBYTE(words, 1), RELU, RES, ZP0);
            const SN_QI q2 = qpw_codes(a, t, 4 * b + 2, acc[4 * b + 2][j], SN_QBYTE(words, 2), RELU, RES, ZP0);
            const SN_QI q3 = qpw_codes(a, t, 4 * b + 3, acc[4 * b + 3][j], SN_QBYTE(words, 3), RELU, RES, ZP0);
            const SN_QI packed = SN_QPACK4(q0, q1, q2, q3);
            SN_QSTORE_I(t->output + b * a->output_block_stride + at, packed);
        }
    }
}

/// R rows (a constant) of panel `t` over `vectors` vectors in blocks of NV, then one of what is left.
SN_INLINE void qpw_rows(const sn_qu8_pointwise_params *a, const qpw_panel *t, ptrdiff_t vectors, const int R,
                        const int RELU, const int RES, const int ZP0) {
    ptrdiff_t p = 0;
    for (; p + SN_QPW_NV <= vectors; p += SN_QPW_NV) qpw_block(a, t, p, R, SN_QPW_NV, RELU, RES, ZP0);
    switch (vectors - p) {
    case 3: if (SN_QPW_NV > 3) qpw_block(a, t, p, R, 3, RELU, RES, ZP0); break;
    case 2: if (SN_QPW_NV > 2) qpw_block(a, t, p, R, 2, RELU, RES, ZP0); break;
    case 1: if (SN_QPW_NV > 1) qpw_block(a, t, p, R, 1, RELU, RES, ZP0); break;
    default: break;
    }
}

/// Every panel of the tile, with the epilogue's ReLU, residual and zero points as constants (straight-line epilogues).
SN_INLINE void qpw_panels(const sn_qu8_pointwise_params *a, const sn_qu8_pointwise_tile *t, const int RELU, const int RES,
                          const int ZP0) {
    const ptrdiff_t end = (ptrdiff_t)t->end, vectors = (ptrdiff_t)t->vectors, mp = a->rows, quads = a->quads;
    for (ptrdiff_t o = (ptrdiff_t)t->begin; o < end;) {
        // The panel holding row o: panels of MR rows from the group's first, the last one 4 high when MR = 8 and
        // the padded rows are 4 more than a multiple of 8.
        const ptrdiff_t r0 = o / SN_QPW_MR * SN_QPW_MR;
        const ptrdiff_t width = mp - r0 < SN_QPW_MR ? mp - r0 : SN_QPW_MR, lane = o - r0;
        const ptrdiff_t rows = width - lane < end - o ? width - lane : end - o;  // 4 or 8
        const qpw_panel panel = {
            .weights = t->weights + r0 * quads * SN_QB + lane * SN_QB,
            .width = width,
            .terms = t->terms + o,
            .multipliers = t->multipliers + o,
            .bias = t->bias + o,
            .inv_out = t->inv_out + o,
            .zero_out = t->zero_out + o,
            .low = t->low + o,
            .high = t->high + o,
            .input = t->input,
            .output = t->output + o / 4 * a->output_block_stride,
            .residual = RES ? t->residual + o / 4 * a->residual_block_stride : NULL,
        };
        if (SN_QPW_MR == 8 && rows == 8) {
            qpw_rows(a, &panel, vectors, SN_QPW_MR, RELU, RES, ZP0);
#ifdef SN_QPW_TAIL
            if (t->tail > 0) SN_QPW_TAIL(a, &panel, vectors * SN_QLANES, (int)t->tail, SN_QPW_MR, RELU, RES, ZP0);
#endif
            o += 8;
        } else {
            qpw_rows(a, &panel, vectors, 4, RELU, RES, ZP0);
#ifdef SN_QPW_TAIL
            if (t->tail > 0) SN_QPW_TAIL(a, &panel, vectors * SN_QLANES, (int)t->tail, 4, RELU, RES, ZP0);
#endif
            o += 4;
        }
    }
}

void SN_QPW_UKERNEL(const sn_qu8_pointwise_tile *tile, const sn_qu8_pointwise_params *params) {
    const sn_qu8_pointwise_params a = *params;
    const sn_qu8_pointwise_tile t = *tile;
    // Zero zero points only get their own code after a ReLU (where the scheme always has them).
    if (t.residual != NULL) {
        if (a.relu && a.zero_points_zero) qpw_panels(&a, &t, 1, 1, 1);
        else if (a.relu) qpw_panels(&a, &t, 1, 1, 0);
        else qpw_panels(&a, &t, 0, 1, 0);
    } else {
        if (a.relu && a.zero_points_zero) qpw_panels(&a, &t, 1, 0, 1);
        else if (a.relu) qpw_panels(&a, &t, 1, 0, 0);
        else qpw_panels(&a, &t, 0, 0, 0);
    }
}
