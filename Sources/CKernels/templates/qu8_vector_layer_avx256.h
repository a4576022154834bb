// The 256-bit part of the int8 vector layer (templates/qu8_pointwise.h lists the macros) that the AVX2 and the
// AVX-VNNI micro-kernels share: integer and float lanes, byte extraction, the saturating 4-row pack, rounding.
// Each includer defines first what differs: SN_QB, SN_QX/SN_QLOADX (the input operand), SN_QW/SN_QLOADW (the weight
// operand) and SN_QDOT (vpmaddwd pairs or vpdpbusd).
#define SN_QI __m256i
#define SN_QF __m256
#define SN_QLANES 8
#define SN_QZERO() _mm256_setzero_si256()
#define SN_QSET1_I(x) _mm256_set1_epi32(x)
#define SN_QADD_I(a, b) _mm256_add_epi32((a), (b))
#define SN_QSUB_I(a, b) _mm256_sub_epi32((a), (b))
#define SN_QAND_I(a, b) _mm256_and_si256((a), (b))
#define SN_QOR3_I(a, b, c) _mm256_or_si256(_mm256_or_si256((a), (b)), (c))
#define SN_QOR_I(a, b) _mm256_or_si256((a), (b))
#define SN_QSLL_8(v) _mm256_slli_epi32((v), 8)
#define SN_QSLL_16(v) _mm256_slli_epi32((v), 16)
#define SN_QSLL_24(v) _mm256_slli_epi32((v), 24)
#define SN_QSRL_8(v) _mm256_srli_epi32((v), 8)
#define SN_QSRL_16(v) _mm256_srli_epi32((v), 16)
#define SN_QSRL_24(v) _mm256_srli_epi32((v), 24)
#define SN_QLOAD_I(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define SN_QSTORE_I(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define SN_QCVT_F(i) _mm256_cvtepi32_ps(i)
#define SN_QSET1_F(x) _mm256_set1_ps(x)
#define SN_QMUL_F(a, b) _mm256_mul_ps((a), (b))
#define SN_QMAX_F(a, b) _mm256_max_ps((a), (b))
#define SN_QMIN_F(a, b) _mm256_min_ps((a), (b))
#define SN_QFMA_F(a, b, c) _mm256_fmadd_ps((a), (b), (c))
/// Byte n of each 32-bit lane, zero-extended: one in-lane byte shuffle.
/// (The index is within the 128-bit lane: dword d takes byte 4d + n.)
#define SN_QBYTE(w, n) _mm256_shuffle_epi8((w), _mm256_set_epi32((int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n))), (int)(0x80808000u | (12u + (unsigned)(n))), (int)(0x80808000u | (8u + (unsigned)(n))), (int)(0x80808000u | (4u + (unsigned)(n))), (int)(0x80808000u | (0u + (unsigned)(n)))))
/// Two unsigned-saturating packs give, per 128-bit lane, rows 0-3 of its 4 pixels as bytes (0 ... 255, channel
/// major); one byte shuffle transposes each lane's 4 x 4 to pixel-major: byte 4p + r <- byte 4r + p.
#define SN_QPACK4(q0, q1, q2, q3) \
    _mm256_shuffle_epi8(_mm256_packus_epi16(_mm256_packus_epi32((q0), (q1)), _mm256_packus_epi32((q2), (q3))), \
                     _mm256_set_epi32(0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400, 0x0f0b0703, 0x0e0a0602, 0x0d090501, 0x0c080400))
#define SN_QPACK_SATURATES 1
#define SN_QCVT_RINT(f) _mm256_cvtps_epi32(f)
