// The quantize micro-kernel (fp32 planes -> u8 channel blocks), one body for every x86 instruction set. Included by
// ukernels_qu8_small_<isa>.c after its vector layer:
//   SN_QQ_UKERNEL        the function's name, e.g. sn_qu8_quantize_ukernel_16__avx512bw
//   SN_QQ_LANES          pixels per vector (16 or 8)
//   SN_QQ_F, SN_QQ_I     float and int32 vectors
//   SN_QQ_LOAD_F(p, n)   n (1 ... SN_QQ_LANES) floats from p, the other lanes anything finite
//   SN_QQ_SET1_F(x), SN_QQ_MUL_F, SN_QQ_MIN_F, SN_QQ_ZERO_I(), SN_QQ_CVT_RINT(f) (cvtps2dq: half to even)
//   SN_QQ_PACK(q0, q1, q2, q3, zp)   channels 0 ... 3 (int32 lanes, one pixel each) + zp as one block vector
//                        (byte 4p + c), each saturated to 0 ... 255 (packssdw, paddsw, packuswb, in-lane vpshufb)
//   SN_QQ_STORE(p, v, n) the first n pixels (4n bytes) of v to p
//
// Arithmetic: clamp(rint(v * inv) + z, 0, 255). The saturating packs are both clamps (rint(s) + z is computed in
// int16 with saturation, then packed with unsigned saturation); the one float clamp, min(s, 2^16), keeps
// cvtps2dq from overflowing to INT_MIN on huge values (which would pack to 0 instead of 255). Below, an
// overflow's INT_MIN packs to 0, which is right.

SN_INLINE SN_QQ_I qq_channel(const float *p, size_t n, SN_QQ_F inv, SN_QQ_F high) {
    return SN_QQ_CVT_RINT(SN_QQ_MIN_F(SN_QQ_MUL_F(SN_QQ_LOAD_F(p, n), inv), high));
}

SN_INLINE void qq_block(const float *input, ptrdiff_t ps, size_t pixels, uint8_t *output, const sn_qu8_requant *q,
                        const int C) {
    const SN_QQ_F inv = SN_QQ_SET1_F(q->inv_scale), high = SN_QQ_SET1_F(65536.0f);
    const int32_t zp = q->zero_point;
    size_t p = 0;
    for (; p + SN_QQ_LANES <= pixels; p += SN_QQ_LANES) {
        const SN_QQ_I q0 = qq_channel(input + p, SN_QQ_LANES, inv, high);
        const SN_QQ_I q1 = C > 1 ? qq_channel(input + ps + p, SN_QQ_LANES, inv, high) : SN_QQ_ZERO_I();
        const SN_QQ_I q2 = C > 2 ? qq_channel(input + 2 * ps + p, SN_QQ_LANES, inv, high) : SN_QQ_ZERO_I();
        const SN_QQ_I q3 = C > 3 ? qq_channel(input + 3 * ps + p, SN_QQ_LANES, inv, high) : SN_QQ_ZERO_I();
        SN_QQ_STORE(output + 4 * p, SN_QQ_PACK(q0, q1, q2, q3, zp), SN_QQ_LANES);
    }
    if (p < pixels) {
        const size_t n = pixels - p;
        const SN_QQ_I q0 = qq_channel(input + p, n, inv, high);
        const SN_QQ_I q1 = C > 1 ? qq_channel(input + ps + p, n, inv, high) : SN_QQ_ZERO_I();
        const SN_QQ_I q2 = C > 2 ? qq_channel(input + 2 * ps + p, n, inv, high) : SN_QQ_ZERO_I();
        const SN_QQ_I q3 = C > 3 ? qq_channel(input + 3 * ps + p, n, inv, high) : SN_QQ_ZERO_I();
        SN_QQ_STORE(output + 4 * p, SN_QQ_PACK(q0, q1, q2, q3, zp), n);
    }
}

void SN_QQ_UKERNEL(const float *input, ptrdiff_t plane_stride, size_t channels, size_t pixels, uint8_t *output,
                   const sn_qu8_requant *q) {
    switch (channels) {
    case 1: qq_block(input, plane_stride, pixels, output, q, 1); break;
    case 2: qq_block(input, plane_stride, pixels, output, q, 2); break;
    case 3: qq_block(input, plane_stride, pixels, output, q, 3); break;
    default: qq_block(input, plane_stride, pixels, output, q, 4); break;
    }
}
