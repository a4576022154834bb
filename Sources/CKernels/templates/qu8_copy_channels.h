// The channel copy micro-kernel (one output block of the stride-2 concat), one plain-C body compiled once per
// instruction set (ukernels_qu8_small_<isa>.c): per pixel, each lane j of the output dword is byte `shift[j] / 8`
// of source j's dword (when mask[j] is 0xff), the lanes in `keep` are the output's own (the driver passes
// keep = 0: blocks it shares with other lanes' writers it copies byte by byte). The compiler vectorizes
// the pixel loop (loop-invariant shifts, ands, ors; 4 / 8 / 16 pixels per vector); sources never overlap the output.
//   SN_QC_UKERNEL   the function's name

SN_INLINE uint32_t qc_load(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

void SN_QC_UKERNEL(const uint8_t *const sources[4], const uint32_t shift[4], const uint32_t mask[4], uint32_t keep,
                   uint8_t *output, size_t pixels) {
    const uint8_t *s0 = sources[0], *s1 = sources[1], *s2 = sources[2], *s3 = sources[3];
    const uint32_t h0 = shift[0], h1 = shift[1], h2 = shift[2], h3 = shift[3];
    const uint32_t m0 = mask[0], m1 = mask[1] << 8, m2 = mask[2] << 16, m3 = mask[3] << 24;
    for (size_t p = 0; p < pixels; p++) {
        // Byte h / 8 of each source moved to lane j: (s >> h) & 255 then << 8j, as one shift each way.
        const uint32_t v = (qc_load(output + 4 * p) & keep) | ((qc_load(s0 + 4 * p) >> h0) & m0)
            | (((qc_load(s1 + 4 * p) >> h1) << 8) & m1) | (((qc_load(s2 + 4 * p) >> h2) << 16) & m2)
            | (((qc_load(s3 + 4 * p) >> h3) << 24) & m3);
        memcpy(output + 4 * p, &v, sizeof v);
    }
}
