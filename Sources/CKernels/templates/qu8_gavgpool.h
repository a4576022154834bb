// The global average pool micro-kernel, one body for every x86 instruction set. Per block, each vector of
// SN_QG_PIXELS pixels x 4 channels has its bytes grouped by channel within each 128-bit lane (one in-lane vpshufb:
// dword c of a lane = channel c of the lane's 4 pixels), then summed 4 bytes per int32 lane (vpdpbusd with ones,
// or vpmaddubsw + vpmaddwd); the lanes fold to the 4 channel sums of the block. The epilogue is the scheme's
// arithmetic on those 4 lanes (SSE, exact: cvtdq2ps, mulps, divps; the codes as the quantize kernel's packs).
// Included by ukernels_qu8_small_<isa>.c after its vector layer:
//   SN_QG_UKERNEL        the function's name
//   SN_QG_PIXELS         pixels per vector (16 or 8)
//   SN_QG_V              the integer vector
//   SN_QG_LOAD(p, n)     n (1 ... SN_QG_PIXELS) pixels (4n bytes) from p, the other lanes 0
//   SN_QG_ZERO()
//   SN_QG_SUM4(acc, x)   acc + per int32 lane the sum of the 4 bytes the grouping puts there
//   SN_QG_FOLD(acc)      __m128i: lane c = sum of the vector's lanes congruent to c mod 4

SN_INLINE SN_QG_V qg_group(SN_QG_V x);

void SN_QG_UKERNEL(const uint8_t *input, ptrdiff_t block_stride, size_t channels, size_t pixels, const sn_qu8_gap_params *p,
                   float *features, uint8_t *codes) {
    const size_t blocks = (channels + 3) / 4, full = pixels / SN_QG_PIXELS, tail = pixels % SN_QG_PIXELS;
    const __m128i zp_sum = _mm_set1_epi32((int32_t)pixels * p->zero_point);
    const __m128 scale = _mm_set1_ps(p->scale), count = _mm_set1_ps(p->pixels);
    const __m128 inv = _mm_set1_ps(p->codes.inv_scale), high = _mm_set1_ps(65536.0f);
    const __m128i czp = _mm_set1_epi16((short)p->codes.zero_point);
    for (size_t b = 0; b < blocks; b++) {
        const uint8_t *x = input + (ptrdiff_t)b * block_stride;
        SN_QG_V acc0 = SN_QG_ZERO(), acc1 = SN_QG_ZERO();
        size_t v = 0;
        for (; v + 2 <= full; v += 2) {
            acc0 = SN_QG_SUM4(acc0, qg_group(SN_QG_LOAD(x + 4 * SN_QG_PIXELS * v, SN_QG_PIXELS)));
            acc1 = SN_QG_SUM4(acc1, qg_group(SN_QG_LOAD(x + 4 * SN_QG_PIXELS * (v + 1), SN_QG_PIXELS)));
        }
        if (v < full) acc0 = SN_QG_SUM4(acc0, qg_group(SN_QG_LOAD(x + 4 * SN_QG_PIXELS * v, SN_QG_PIXELS)));
        if (tail > 0) acc1 = SN_QG_SUM4(acc1, qg_group(SN_QG_LOAD(x + 4 * SN_QG_PIXELS * full, tail)));
        const __m128i sums = _mm_sub_epi32(_mm_add_epi32(SN_QG_FOLD(acc0), SN_QG_FOLD(acc1)), zp_sum);
        // ((float)sum * scale) / (float)pixels, in that order.
        const __m128 f = _mm_div_ps(_mm_mul_ps(_mm_cvtepi32_ps(sums), scale), count);
        const size_t real = channels - 4 * b < 4 ? channels - 4 * b : 4;
        if (real == 4) _mm_storeu_ps(features + 4 * b, f);
        else {
            float lanes[4];
            _mm_storeu_ps(lanes, f);
            memcpy(features + 4 * b, lanes, real * sizeof(float));
        }
        if (codes != NULL) {
            const __m128i q = _mm_cvtps_epi32(_mm_min_ps(_mm_mul_ps(f, inv), high));
            const __m128i w = _mm_adds_epi16(_mm_packs_epi32(q, q), czp);
            const uint32_t four = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(w, w));
            memcpy(codes + 4 * b, &four, real);
        }
    }
}
