// The int8 3x3 depthwise micro-kernel (padding 1, stride 1 or 2), one body for every instruction set: one output
// block (4 channels of the expand's shuffled input) per call. It gathers the block's 4 source channels into a
// zero-point-bordered scratch block, then for each group of SN_DLANES output pixels of one or two output rows
// builds "window" vectors (one in-lane byte shuffle of one load: per (pixel, channel) int32 lane, that channel's
// 3 horizontal taps and one more), adds each kernel row with one exact u8 x s8 dot product per lane, and
// requantizes (the scheme's fp32 epilogue, as templates/qu8_pointwise.h has it). Included by
// ukernels_qu8_dw_<isa>.c after its vector layer:
//   SN_QDW_UKERNEL        the function's name
//   SN_DLANES             int32 lanes per vector, SN_DLANES / 4 pixels x 4 channels (a 128-bit lane: one pixel)
//   SN_DV                 the vector type (bytes or int32 lanes alike)
//   SN_DWIN(p)            window vector: 128-bit lane i from the 4 padded pixels at p + 16i bytes, its 4x4 bytes
//                         transposed (int32 lane j = channel j's bytes at those 4 pixels)
//   SN_DWIN_HALVES(p, q), SN_DWIN_HALVES_S2(p, q)   (SN_DLANES >= 8) the low half's lanes from p + 16i (stride 2:
//                         p + 32i), the high half's from q the same way
//   SN_DW, SN_DLOADW(record, ky)   kernel row ky's weights in the ISA's form; SN_DSHIFTW(w) the same one byte up
//                         per slot, (0, w0, w1, w2); SN_DDOT(acc, x, w) exact dot per lane
//   SN_DPATTERN_I(p), SN_DPATTERN_F(p)   4 per-channel values, lane 4i + j getting channel j's
//   SN_DF, SN_DCVT_F, SN_DFMA_F(a, b, c) (fused, as fmaf), SN_DMUL_F, SN_DMIN_F, SN_DMAX_F, SN_DCVT_RINT (half to
//   even), SN_DADD_I
//   SN_DPACK(q0, q1, q2, q3)       the codes (0 ... 255 per lane) as bytes: 128-bit lane i = lane i of q0 ... q3
//   SN_DPACK_SATURATES    1 when it saturates each int32 below at 0 (x86's packus), else 0
//   SN_DUNZIP_S2(v)       stride 2's order back to natural (64-bit units 0, 2, 4, ..., 1, 3, 5, ...)
//   SN_DSTORE(p, v), SN_DSTORE_PART(p, v, n, at): n pixels (n * 4 bytes) of v from pixel `at` on, to p (no call)
//   SN_DGATHER_SETUP(base, shift), SN_DGATHER_ROW(out, at, w, room)   optional (once per block, per row): out[x]
//                         (x < w) = the dword whose byte j is byte shift[j] of dword x of base[j] + at (0 where
//                         base[j] is NULL), reading at most `room` dwords from base[j] + at, writing up to 15
//                         dwords past out[w - 1]; without it, a plain C loop
//
// Why windows: the 9 taps of one channel must meet in one int32 lane, and in the block layout a lane holds 4
// channels of one pixel. A 128-bit lane loaded at padded pixel x (padded column x is input column x - 1) holds 4
// pixels x 4 channels; transposing its bytes puts each channel's padded pixels x ... x + 3 side by side: one
// `vpdpbusd` (AVX2: two `vpmaddwd` on the even/odd bytes) against (w0, w1, w2, 0) adds a kernel row of output
// pixel x, and against (0, w0, w1, w2) one of output pixel x + 1 (stride 1). So per 4 accumulators (SN_DLANES output pixels x 4 channels) and kernel row: 2
// window vectors at stride 1, 4 at stride 2, each one load and one in-lane shuffle, and no permute until the
// packs (which give natural order: accumulator m holds pixels m, m + 4, m + 8, ...). The three 4x4 transposes of
// 4 tap vectors per 4 accumulators this replaces were 24 shuffles where the windows take 6 (stride 1).

/// Copies the 4 source channels into `scratch`, `(height + 2) x (width + 2)` dwords, the border each channel's
/// input zero point (padding taps then contribute `W * (z - z) = 0`, through the term), a padding slot 0.
SN_INLINE void qdw_gather(const sn_qu8_dwconv_block *blk, const sn_qu8_dw_record *rec) {
    const ptrdiff_t h = blk->height, w = blk->width, pw = w + 2;
    uint32_t pad = 0;
    for (int j = 0; j < 4; j++) pad |= (uint32_t)(rec->source[j] >= 0 ? rec->pad_code[j] : 0) << (8 * j);
    uint32_t *s = (uint32_t *)(void *)blk->scratch;
    // Slot j's channel: byte `shift[j]` of every dword of block `base[j]` (NULL: a padding slot, code 0).
    const uint8_t *base[4];
    int shift[4];
    for (int j = 0; j < 4; j++) {
        base[j] = rec->source[j] >= 0 ? blk->input + rec->source[j] / 4 * blk->input_block_stride : NULL;
        shift[j] = rec->source[j] >= 0 ? rec->source[j] % 4 : 0;
    }
#ifdef SN_DGATHER_SETUP
    SN_DGATHER_SETUP(base, shift);
#endif
    for (ptrdiff_t y = 0; y < h; y++) {
        uint32_t *row = s + (y + 1) * pw;
        const ptrdiff_t at = 4 * y * w;
#ifdef SN_DGATHER_ROW
        // The ISA's: whole vectors, reading past the row end (the next row's pixels) but not past the block's
        // room (h * w pixels rounded up to 16), writing past it (the border and the next row, written after).
        SN_DGATHER_ROW(row + 1, at, w, (h * w + 15) / 16 * 16 - y * w);
#else
        uint32_t *out = row + 1;
        for (ptrdiff_t x = 0; x < w; x++) out[x] = 0;
        for (int j = 0; j < 4; j++) {
            if (!base[j]) continue;
            const uint8_t *p = base[j] + shift[j] + at;
            for (ptrdiff_t x = 0; x < w; x++) out[x] |= (uint32_t)p[4 * x] << (8 * j);
        }
#endif
        row[0] = pad;
        row[w + 1] = pad;
    }
    for (ptrdiff_t x = 0; x < pw; x++) s[x] = pad, s[(h + 1) * pw + x] = pad;
}

/// Window vector at p (stride ST; with pairs, its high half at q).
SN_INLINE SN_DV qdw_window(const uint8_t *p, const uint8_t *q, const int ST, const int pairs) {
#if SN_DLANES >= 8
    if (pairs) return ST == 1 ? SN_DWIN_HALVES(p, q) : SN_DWIN_HALVES_S2(p, q);
#endif
    (void)q, (void)pairs, (void)ST;
    return SN_DWIN(p);
}

/// The block's constants, in registers.
typedef struct qdw_consts {
    /// Kernel row ky's weights, and the same one byte up (stride 1: the window of pixel x serves x + 1 too).
    SN_DW w[3], w_next[3];
    SN_DV term, zero_out;
    SN_DF mul, bias, inv, low, high;
} qdw_consts;

/// 4 accumulators -> SN_DLANES pixels x 4 channels of codes, in the order of the accumulators' lanes.
SN_INLINE SN_DV qdw_requantize(const qdw_consts *k, const SN_DV acc[4]) {
    SN_DV q[4];
    for (int i = 0; i < 4; i++) {
        // clamp(rint(s) + z, 0, 255) = rint(clamp(s, -z, 255 - z)) + z (templates/qu8_pointwise.h). With a
        // pack that saturates at 0 the lower clamp is the pack's: rint(s) + z < 0 becomes 0 either way (a
        // cvtps2dq overflow, INT_MIN, + z stays negative: right, it only happens far below).
        SN_DF s = SN_DMUL_F(SN_DFMA_F(SN_DCVT_F(acc[i]), k->mul, k->bias), k->inv);
        s = SN_DPACK_SATURATES ? SN_DMIN_F(s, k->high) : SN_DMIN_F(SN_DMAX_F(s, k->low), k->high);
        q[i] = SN_DADD_I(SN_DCVT_RINT(s), k->zero_out);
    }
    return SN_DPACK(q[0], q[1], q[2], q[3]);
}

/// Output rows oy ..< oy + R (R = 1 or 2; with pairs, R = 1 and the vectors hold rows oy and oy + 1), every
/// group of SN_DLANES output pixels. Window vector m of the group at ox (4 channels x the 3 horizontal taps of
/// one output pixel per 128-bit lane): stride 1, output pixel ox + m + 4i in lane i, so that the packs of the 4
/// accumulators give natural order, and the window of pixel x (padded pixels x ... x + 3) serves x + 1 against
/// the weights one byte up: vectors 1 and 3 reuse the windows of 0 and 2. Stride 2: output pixel ox + (m / 2) *
/// SN_DLANES / 2 + m % 2 + 2i, so that the lanes of one plain load are 4 padded pixels apart; one permute of
/// the packed codes restores the order. With R = 2 each padded row's windows serve both output rows.
SN_INLINE void qdw_output_rows(const sn_qu8_dwconv_block *blk, const qdw_consts *k, ptrdiff_t oy, const int ST,
                               const int pairs, const int R) {
    const ptrdiff_t pw = blk->width + 2;
    const ptrdiff_t oh = (blk->height - 1) / ST + 1, ow = (blk->width - 1) / ST + 1;
    // The pair's second row (the first again when oy is the last).
    const ptrdiff_t dy = pairs && oy + 1 < oh ? ST : 0;
    const uint8_t *r0 = blk->scratch + 4 * (oy * ST) * pw;
    uint8_t *out = blk->output + 4 * oy * ow;
    for (ptrdiff_t ox = 0; ox < ow; ox += SN_DLANES) {
        SN_DV acc[2][4];
        for (int t = 0; t < 2; t++)
            for (int m = 0; m < 4; m++) acc[t][m] = k->term;
        for (int r = 0; r < (R == 2 ? ST + 3 : 3); r++) {
            const uint8_t *row = r0 + 4 * r * pw;
            SN_DV x[4];
            for (int m = 0; m < 4; m += ST == 1 ? 2 : 1) {
                const uint8_t *p = row + 4 * ST * (ox + (pairs || ST == 1 ? m : m / 2 * (SN_DLANES / 2) + m % 2));
                x[m] = qdw_window(p, p + 4 * dy * pw, ST, pairs);
            }
            for (int t = 0; t < R; t++) {
                const int ky = r - t * ST;
                if (ky < 0 || ky > 2) continue;
                for (int m = 0; m < 4; m += ST == 1 ? 2 : 1) {
                    acc[t][m] = SN_DDOT(acc[t][m], x[m], k->w[ky]);
                    if (ST == 1) acc[t][m + 1] = SN_DDOT(acc[t][m + 1], x[m], k->w_next[ky]);
                }
            }
        }
        for (int t = 0; t < R; t++) {
            SN_DV codes = qdw_requantize(k, acc[t]);
            if (ST == 2 && !pairs) codes = SN_DUNZIP_S2(codes);
            uint8_t *o = out + 4 * t * ow;
            if (pairs) {
                SN_DSTORE_PART(o, codes, ow, 0);
                if (dy) SN_DSTORE_PART(o + 4 * ow, codes, ow, SN_DLANES / 2);
            } else if (ox + SN_DLANES <= ow) {
                SN_DSTORE(o + 4 * ox, codes);
            } else {
                SN_DSTORE_PART(o + 4 * ox, codes, ow - ox, 0);
            }
        }
    }
}

SN_INLINE void qdw_rows(const sn_qu8_dwconv_block *blk, const sn_qu8_dw_record *rec, const int ST, const int pairs) {
    const ptrdiff_t oh = (blk->height - 1) / ST + 1;
    qdw_consts k;
    for (int ky = 0; ky < 3; ky++) k.w[ky] = SN_DLOADW(rec, ky), k.w_next[ky] = SN_DSHIFTW(k.w[ky]);
    k.term = SN_DPATTERN_I(rec->term), k.zero_out = SN_DPATTERN_I(rec->zero_out);
    k.mul = SN_DPATTERN_F(rec->multiplier), k.bias = SN_DPATTERN_F(rec->bias), k.inv = SN_DPATTERN_F(rec->inv_out);
    k.low = SN_DPATTERN_F(rec->low), k.high = SN_DPATTERN_F(rec->high);
    if (pairs) {
        for (ptrdiff_t oy = 0; oy < oh; oy += 2) qdw_output_rows(blk, &k, oy, ST, 1, 1);
    } else {
        ptrdiff_t oy = 0;
        for (; oy + 1 < oh; oy += 2) qdw_output_rows(blk, &k, oy, ST, 0, 2);
        if (oy < oh) qdw_output_rows(blk, &k, oy, ST, 0, 1);
    }
}

SN_INLINE void qdw_rows_s1(const sn_qu8_dwconv_block *blk, const sn_qu8_dw_record *rec) { qdw_rows(blk, rec, 1, 0); }
SN_INLINE void qdw_rows_s2(const sn_qu8_dwconv_block *blk, const sn_qu8_dw_record *rec) { qdw_rows(blk, rec, 2, 0); }
#if SN_DLANES >= 8
SN_INLINE void qdw_pairs_s1(const sn_qu8_dwconv_block *blk, const sn_qu8_dw_record *rec) { qdw_rows(blk, rec, 1, 1); }
SN_INLINE void qdw_pairs_s2(const sn_qu8_dwconv_block *blk, const sn_qu8_dw_record *rec) { qdw_rows(blk, rec, 2, 1); }
#endif

void SN_QDW_UKERNEL(const sn_qu8_dwconv_block *blk) {
    const sn_qu8_dw_record *rec = (const sn_qu8_dw_record *)blk->record;
    qdw_gather(blk, rec);
    const ptrdiff_t ow = (blk->width - 1) / blk->stride + 1;
    // Rows no wider than half a vector (7 x 7 outputs in 16 lanes) are computed two at a time.
    const int pairs = SN_DLANES >= 8 && 2 * ow <= SN_DLANES;
#if SN_DLANES >= 8
    if (pairs) {
        if (blk->stride == 1) qdw_pairs_s1(blk, rec); else qdw_pairs_s2(blk, rec);
        return;
    }
#endif
    (void)pairs;
    if (blk->stride == 1) qdw_rows_s1(blk, rec); else qdw_rows_s2(blk, rec);
}
