#!/usr/bin/env python3
"""Independent NumPy forward pass of a shufflenet int8 file (Weights/README.md, "int8 files"), written from the
documented formulas, not from the Swift code: what the Swift int8 reference and kernels are tested against.

    Scripts/reference_int8_forward.py --weights INT8.safetensors --output OUT.json IMAGE_OR_DIR...

Preprocessing is reference_forward.py's (Megvii's pipeline). Integer sums are exact (int64); each requantization
is computed in float32 as the scheme states: v = fma(float32(acc), m, bias) (the product and sum in float64,
rounded once to float32, which equals a fused multiply-add except in double-rounding ties), rint half to even,
plus the zero point, clamped to 0..255. Writes {"images": [{"path", "logits", "features"}, ...]}.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward  # noqa: E402  (preprocessing and the fp32 stem's layers)
import safetensors_numpy  # noqa: E402

f32 = np.float32


def fma(a, m, b):
    """float32(a * m + b) with one rounding from float64 (a, m, b float32)."""
    return (np.float64(a) * np.float64(m) + np.float64(b)).astype(f32)


def quantize(v, scale, zero):
    """clamp(rint(v * (1/scale)) + zero, 0, 255), in float32 as the engine computes it."""
    inverse = (f32(1) / scale.astype(f32)).astype(f32)
    q = np.rint((v.astype(f32) * inverse).astype(f32)) + zero.astype(f32)
    return np.clip(q, 0, 255).astype(np.uint8)


def destinations(channels, groups, convention):
    n = channels // groups
    j = np.arange(channels)
    return (j % groups) * n + j // groups if convention == "megvii" else (j % n) * groups + j // n


def stage_plan(meta):
    stem = int(meta["stem_channels"])
    stages = [int(x) for x in meta["stage_channels"].split(",")]
    groups = int(meta["groups"])
    units, channels = [], stem
    for stage, repeats in enumerate((4, 8, 4)):
        for i in range(repeats):
            stride = 2 if i == 0 else 1
            out = stages[stage]
            units.append(dict(stride=stride, inputs=channels, outputs=out, branch=out - channels if stride == 2 else out,
                              mid=out // 4, first_groups=1 if (stage == 0 and i == 0) else groups))
            channels = out
    return stem, groups, units


def pointwise(x, weight, scale_w, bias, zeros, input_scale, groups):
    """x: (C, P) uint8 codes; zeros: (C,) zero points; returns v (O, P) float32 before the activation."""
    c, p = x.shape
    o = weight.shape[0]
    centered = x.astype(np.int64) - zeros.astype(np.int64)[:, None]
    acc = (weight.astype(np.int64).reshape(groups, o // groups, c // groups)
           @ centered.reshape(groups, c // groups, p)).reshape(o, p)
    multiplier = (f32(input_scale) * scale_w.astype(f32)).astype(f32)
    return fma(acc.astype(f32), multiplier[:, None], bias.astype(f32)[:, None])


def depthwise(x, size, weight, scale_w, bias, scales_in, zeros_in, stride):
    c = x.shape[0]
    planes = x.reshape(c, size, size).astype(np.int64) - zeros_in.astype(np.int64)[:, None, None]
    padded = np.pad(planes, ((0, 0), (1, 1), (1, 1)))
    out = (size - 1) // stride + 1
    acc = np.zeros((c, out, out), dtype=np.int64)
    w = weight.astype(np.int64).reshape(c, 3, 3)
    for ky in range(3):
        for kx in range(3):
            acc += w[:, ky, kx][:, None, None] * padded[:, ky:ky + stride * (out - 1) + 1:stride, kx:kx + stride * (out - 1) + 1:stride]
    multiplier = (scales_in.astype(f32) * scale_w.astype(f32)).astype(f32)
    return fma(acc.astype(f32), multiplier[:, None, None], bias.astype(f32)[:, None, None]).reshape(c, out * out), out


def run(t, meta, image):
    stem_channels, groups, units = stage_plan(meta)
    # conv1 in fp32: the bias, then each tap's product added in float32 in the order (input channel, ky, kx), as
    # the reference convolution sums; ReLU, max pool, then u8. (A float64 conv1 flips a few codes where v/scale
    # is within float32 rounding of a half, and those flips spread: the test would then need a loose tolerance.)
    weight = t["first_conv.weight"].astype(f32)
    padded = np.pad(image.astype(f32), ((0, 0), (1, 1), (1, 1)))
    out = (image.shape[1] - 1) // 2 + 1
    conv = np.broadcast_to(t["first_conv.bias"].astype(f32)[:, None, None], (stem_channels, out, out)).copy()
    for c in range(3):
        for ky in range(3):
            for kx in range(3):
                tap = padded[c, ky:ky + 2 * (out - 1) + 1:2, kx:kx + 2 * (out - 1) + 1:2]
                conv = (conv + (weight[:, c, ky, kx][:, None, None] * tap[None]).astype(f32)).astype(f32)
    pooled = reference_forward.max_pool3x3_s2(np.maximum(conv, 0)[None].astype(np.float64))[0].astype(f32)
    size = pooled.shape[1]
    scale, zero = t["first_conv.output_scale"], t["first_conv.output_zero_point"]
    codes = quantize(pooled.reshape(stem_channels, -1), scale, zero)
    for u, unit in enumerate(units):
        p = f"features.{u}"
        zeros = np.full(unit["inputs"], zero[0])
        v = pointwise(codes, t[f"{p}.compress.weight"], t[f"{p}.compress.weight_scale"], t[f"{p}.compress.bias"], zeros,
                      scale[0], unit["first_groups"])
        cs, cz = t[f"{p}.compress.output_scale"], t[f"{p}.compress.output_zero_point"]
        compressed = quantize(np.maximum(v, 0), cs[:, None], cz[:, None])
        v, out = depthwise(compressed, size, t[f"{p}.depthwise.weight"], t[f"{p}.depthwise.weight_scale"], t[f"{p}.depthwise.bias"],
                           cs, cz, unit["stride"])
        ds, dz = t[f"{p}.depthwise.output_scale"], t[f"{p}.depthwise.output_zero_point"]
        dcodes = quantize(v, ds[:, None], dz[:, None])
        shuffled, shuffled_zeros = dcodes, dz
        if groups > 1:
            dest = destinations(unit["mid"], groups, meta["channel_shuffle"])
            shuffled = np.empty_like(dcodes)
            shuffled[dest] = dcodes
            shuffled_zeros = np.empty_like(dz)
            shuffled_zeros[dest] = dz
        v = pointwise(shuffled, t[f"{p}.expand.weight"], t[f"{p}.expand.weight_scale"], t[f"{p}.expand.bias"], shuffled_zeros, 1, groups)
        oscale, ozero = t[f"{p}.output_scale"], t[f"{p}.output_zero_point"]
        if unit["stride"] == 1:
            residual = (codes.astype(np.int64) - int(zero[0])).astype(f32)
            v = fma(residual, scale[0], v)
            codes = quantize(np.maximum(v, 0), oscale, ozero)
        else:
            planes = codes.reshape(unit["inputs"], size, size).astype(np.int64) - int(zero[0])
            padded = np.pad(planes, ((0, 0), (1, 1), (1, 1)))
            sums = sum(padded[:, ky:ky + 2 * (out - 1) + 1:2, kx:kx + 2 * (out - 1) + 1:2] for ky in range(3) for kx in range(3))
            step = (scale[0].astype(f32) / f32(9)).astype(f32)
            pooled_half = quantize((sums.reshape(unit["inputs"], -1).astype(f32) * step).astype(f32), oscale, ozero)
            codes = np.concatenate([pooled_half, quantize(np.maximum(v, 0), oscale, ozero)])
        scale, zero, size = oscale, ozero, out
    plane = size * size
    sums = (codes.astype(np.int64) - int(zero[0])).sum(axis=1)
    features = ((sums.astype(f32) * scale[0].astype(f32)).astype(f32) / f32(plane)).astype(f32)
    if "classifier.recheck_weight" in t:
        # With recheck weights the classifier is the fp32 network's own at 16 bits, on the fp32 features.
        w16 = t["classifier.recheck_weight"].astype(np.float64)
        logits = (w16 @ features.astype(np.float64) + t["classifier.recheck_bias"].astype(np.float64)).astype(f32)
        return logits, features
    # The classifier: features as u8 with the pool map, s8 weights, exact sums, one fp32 step per class.
    codes = quantize(features, t["pool.output_scale"], t["pool.output_zero_point"])
    logits = pointwise(codes[:, None], t["classifier.weight"], t["classifier.weight_scale"], t["classifier.bias"],
                       np.full(features.shape[0], t["pool.output_zero_point"][0]), t["pool.output_scale"][0], 1)[:, 0]
    return logits, features


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args(argv)
    tensors, meta = safetensors_numpy.load(args.weights)
    if meta.get("precision") != "int8":
        sys.exit(f"{args.weights}: not an int8 file (metadata precision {meta.get('precision')!r})")
    results = []
    for path in reference_forward.expand_inputs(args.images):
        logits, features = run(tensors, meta, reference_forward.preprocess(path))
        results.append({"path": path, "logits": [float(x) for x in logits], "features": [float(x) for x in features]})
    with open(args.output, "w") as f:
        json.dump({"weights": args.weights, "images": results}, f)
    print(f"reference_int8_forward: {len(results)} images -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
