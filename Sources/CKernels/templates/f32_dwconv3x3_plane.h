// The depthwise 3x3 micro-kernel on one zero-bordered plane (the driver copies each channel there first, so the
// nine taps need no bounds checks), one body for every instruction set (see templates/vector_layer.h):
//   SN_DWCONV_PLANE_UKERNEL  the function's name, e.g. sn_f32_dwconv3x3_ukernel_plane8__avx2_fma
// It also needs SN_VLOAD_EVEN(p) (p[0], p[2], ... : a stride-2 window's columns) and SN_VSTORE_LANES.

/// The whole plane for one stride; `stride` is a constant in each call below, so each gets its own loop.
SN_INLINE void dw_plane(const sn_f32_dwconv_plane *a, const int stride) {
    SN_V t[9];
    for (int i = 0; i < 9; i++) t[i] = SN_VSET1(a->taps[i]);
    const SN_V bias = SN_VSET1(a->bias);
    const ptrdiff_t width = a->output_width, row = a->padded_row;
    for (ptrdiff_t y = 0; y < a->output_height; y++) {
        const float *r0 = a->padded + stride * y * row;
        float *dst = a->output + y * width;
        for (ptrdiff_t x = 0; x < width; x += SN_LANES) {
            SN_V acc = bias;
            for (int ky = 0; ky < 3; ky++) {
                for (int kx = 0; kx < 3; kx++) {
                    const float *r = r0 + ky * row + stride * x + kx;
                    acc = SN_VFMA(stride == 1 ? SN_VLOAD(r) : SN_VLOAD_EVEN(r), t[3 * ky + kx], acc);
                }
            }
            // The last block of a row may be partial: it leaves the next row's pixels alone.
            if (x + SN_LANES <= width) {
                SN_VSTORE(dst + x, acc);
            } else {
                SN_VSTORE_LANES(dst + x, acc, (size_t)(width - x));
            }
        }
    }
}

void SN_DWCONV_PLANE_UKERNEL(const sn_f32_dwconv_plane *plane) {
    const sn_f32_dwconv_plane a = *plane;
    if (a.stride == 1) {
        dw_plane(&a, 1);
    } else {
        dw_plane(&a, 2);
    }
}
