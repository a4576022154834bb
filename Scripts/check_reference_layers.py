"""Check the vectorised layers of reference_forward.py against direct loop-by-loop definitions.

Makes nothing; prints one line per layer and exits 1 if any differs by more than 1e-12.
The loops below are written from the layer definitions (PyTorch Conv2d / MaxPool2d / AvgPool2d with
count_include_pad, Megvii's channel shuffle), not from the vectorised code, so a slicing or reshape
mistake in reference_forward.py shows up here.

Rerun: .venv/bin/python Scripts/check_reference_layers.py
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward as ref  # noqa: E402

TOLERANCE = 1e-12


def loop_conv2d(x, weight, stride, pad, groups):
    n, c, h, w = x.shape
    out_channels, in_per_group, k, _ = weight.shape
    out_per_group = out_channels // groups
    out_h = (h + 2 * pad - k) // stride + 1
    out_w = (w + 2 * pad - k) // stride + 1
    out = np.zeros((n, out_channels, out_h, out_w))
    for b in range(n):
        for o in range(out_channels):
            first_input = (o // out_per_group) * in_per_group
            for y in range(out_h):
                for xx in range(out_w):
                    total = 0.0
                    for ci in range(in_per_group):
                        for ky in range(k):
                            for kx in range(k):
                                iy, ix = y * stride + ky - pad, xx * stride + kx - pad
                                if 0 <= iy < h and 0 <= ix < w:
                                    total += weight[o, ci, ky, kx] * x[b, first_input + ci, iy, ix]
                    out[b, o, y, xx] = total
    return out


def loop_pool3x3_s2(x, reduce_max):
    n, c, h, w = x.shape
    out_h, out_w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
    out = np.zeros((n, c, out_h, out_w))
    for b in range(n):
        for ch in range(c):
            for y in range(out_h):
                for xx in range(out_w):
                    inside = [x[b, ch, 2 * y + dy - 1, 2 * xx + dx - 1]
                              for dy in range(3) for dx in range(3)
                              if 0 <= 2 * y + dy - 1 < h and 0 <= 2 * xx + dx - 1 < w]
                    # Max ignores padding; the average counts the 9 taps including zero padding.
                    out[b, ch, y, xx] = max(inside) if reduce_max else sum(inside) / 9.0
    return out


def loop_channel_shuffle(x, groups):
    c = x.shape[1]
    per_group = c // groups
    out = np.empty_like(x)
    for i in range(per_group):
        for j in range(groups):
            out[:, j * per_group + i] = x[:, i * groups + j]
    return out


def main():
    rng = np.random.default_rng(20191)
    x = rng.standard_normal((2, 6, 9, 8))
    cases = {
        "conv3x3 dense stride 2": (ref.conv3x3_dense(x, w := rng.standard_normal((4, 6, 3, 3)), 2),
                                   loop_conv2d(x, w, 2, 1, 1)),
        "conv3x3 depthwise stride 1": (ref.conv3x3_depthwise(x, w := rng.standard_normal((6, 1, 3, 3)), 1),
                                       loop_conv2d(x, w, 1, 1, 6)),
        "conv3x3 depthwise stride 2": (ref.conv3x3_depthwise(x, w, 2), loop_conv2d(x, w, 2, 1, 6)),
        "conv1x1 3 groups": (ref.conv1x1_grouped(x, w := rng.standard_normal((9, 2, 1, 1)), 3),
                             loop_conv2d(x, w, 1, 0, 3)),
        "conv1x1 1 group": (ref.conv1x1_grouped(x, w := rng.standard_normal((5, 6, 1, 1)), 1),
                            loop_conv2d(x, w, 1, 0, 1)),
        "max pool 3x3 s2 p1": (ref.max_pool3x3_s2(x), loop_pool3x3_s2(x, True)),
        "avg pool 3x3 s2 p1": (ref.avg_pool3x3_s2(x), loop_pool3x3_s2(x, False)),
        "channel shuffle 3 groups": (ref.channel_shuffle(x, 3), loop_channel_shuffle(x, 3)),
        "channel shuffle 2 groups": (ref.channel_shuffle(x, 2), loop_channel_shuffle(x, 2)),
    }
    failures = 0
    for name, (fast, slow) in cases.items():
        error = np.max(np.abs(fast - slow)) if fast.shape == slow.shape else np.inf
        ok = error <= TOLERANCE
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: shape {fast.shape}, max |diff| {error:.2e}")
    # A concrete value worked by hand: with 6 channels in 3 groups, (C/g, g) = (2, 3), so the shuffled
    # order of channels 0..5 is 0, 3, 1, 4, 2, 5.
    order = ref.channel_shuffle(np.arange(6.0).reshape(1, 6, 1, 1), 3).ravel().tolist()
    ok = order == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} channel shuffle hand example: {order}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
