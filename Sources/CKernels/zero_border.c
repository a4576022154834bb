// The zero-bordered scratch plane of the portable and AVX2 depthwise kernels: one copy of the layout rules, so the
// kernels' reads past the last pixel always land in memory the scratch owns.
#include "shufflenet_kernels.h"

#include <string.h>

/// Slack after the last row: a block of 16 stride-2 outputs reads 34 columns from its row's start.
enum { SLACK = 64 };

/// Rows hold the left pad, the pixels and the right pad, nothing more: copying a plane then writes little
/// beyond its pixels. Vector reads that run past a row's right pad into the next row only feed output lanes
/// past the row's end, which are never stored (an output x reads columns x..x+2, or 2x..2x+2 at stride 2,
/// all at most width + 1), and the last row's over-read lands in the slack.
ptrdiff_t sn_padded_row(ptrdiff_t width) { return width + 2; }

ptrdiff_t sn_padded_plane_count(ptrdiff_t height, ptrdiff_t width) { return (height + 2) * sn_padded_row(width) + SLACK; }

void sn_copy_with_zero_border(const float *source, ptrdiff_t height, ptrdiff_t width, float *scratch) {
    const ptrdiff_t row = sn_padded_row(width);
    memset(scratch, 0, (size_t)(row + 1) * sizeof(float));
    for (ptrdiff_t y = 0; y < height; y++) {
        float *line = scratch + (y + 1) * row;  // line[0] is the left pad, line[1 ... width] the pixels
        memcpy(line + 1, source + y * width, (size_t)width * sizeof(float));
        memset(line + width + 1, 0, (size_t)(row - width) * sizeof(float));  // right margin, next row's left pad
    }
    memset(scratch + (height + 1) * row, 0, (size_t)(row + SLACK) * sizeof(float));
}
