"""Int8 study for issue 10: which quantization scheme should the engine's int8 use? Measured, not guessed.

A NumPy simulation of int8 inference of ShuffleNet v1 that does what an integer engine does, on Megvii's two
checkpoints (0.5x g3 and 0.5x g8), compared with the fp32 network:
* BatchNorm folded first (float64: w * gamma / sqrt(var + eps), bias beta - mean * gamma / sqrt(var + eps));
* weights symmetric int8 (s8, [-127, 127]) per output channel or per tensor; biases int32 at scale s_in * s_w;
* activations per tensor: post-ReLU tensors u8 with zero point 0, signed tensors (the depthwise output, which
  has no ReLU) u8 asymmetric or s8 symmetric; the input photo is u8 at scale 1 (BGR 0..255, integers);
* int32 accumulation (exact: float64 holds every sum), requantization acc * M with rounding and clamping,
  in float32 (the epilogue an AVX-512 kernel would do) or fixed-point (int32 multiplier and shift);
* the channel shuffle is a permutation of the int8 tensor (per-tensor scales make it free), max pool works on
  the u8 codes, average pools sum codes and requantize.
The network itself is Scripts/reference_forward.py's (Megvii's network.py/blocks.py: shuffle reshape (C/g, g)
then transpose, classifier without bias); its layer functions run the integer codes.

Evaluation (we only have 50 ImageNet photos, the calibration set):
* 2-fold: calibrate on 25 of the 50 shared ImageNet photos (every other one, sorted), evaluate on the other 25,
  and swap; every photo is judged by a calibration that did not see it. Top-1 accuracy (labels from the file
  names) for fp32 and int8, top-1 agreement with fp32, top-5 overlap, relative logit error.
* unseen: calibrate on all 50, measure agreement with fp32 on the hymenoptera photos (ants and bees, not ImageNet
  classes: only agreement with fp32 is meaningful there) and the fp32 top1-top2 logit margin where they differ.
* accumulator bounds for vpdpbusd and vpmaddubsw over every s and g, and a simulation of vpmaddubsw's int16
  saturation on the real data.

    .venv/bin/python Scripts/int8_study.py [--quick] [--output Scripts/int8_study-results.md]
        [--models g3,g8] [--shared-data DIR] [--hymenoptera DIR] [--recommended "D: C + percentile 99.999"]
Needs numpy, opencv-python-headless and pillow (as Scripts/make_reference_logits). Preprocessed photos are
cached in .build/int8-study/. A full run took 12 minutes on one core of a busy 2-core machine; --quick (fewer
variants, a quarter of the unseen photos) 4.5 minutes. Findings: Scripts/int8_study.md.
"""

import argparse
import datetime
import hashlib
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_forward import (IMAGE_EXTENSIONS, ShuffleNetV1Reference, avg_pool3x3_s2,  # noqa: E402
                               channel_shuffle, conv1x1_grouped, conv3x3_dense, conv3x3_depthwise,
                               max_pool3x3_s2, preprocess, read_class_wnids, relu, BN_EPS)
from torch_legacy_reader import load_state_dict  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 10
INT32_MAX = 2 ** 31 - 1
INT16_MAX = 2 ** 15 - 1


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------

def list_images(folder):
    paths = []
    for directory, _, names in sorted(os.walk(folder)):
        paths.extend(os.path.join(directory, n) for n in sorted(names) if n.lower().endswith(IMAGE_EXTENSIONS))
    return sorted(paths)


def load_images(folder, cache_dir):
    """(paths, uint8 N x 3 x 224 x 224 BGR): Scripts/reference_forward.py's preprocess (what `classify` does),
    cached. The values are integers 0..255 (OpenCV resizes uint8 to uint8), so u8 at scale 1 holds them exactly."""
    paths = list_images(folder)
    key = hashlib.sha256("\n".join(f"{p}:{os.path.getsize(p)}" for p in paths).encode()).hexdigest()[:16]
    cache = os.path.join(cache_dir, f"images-{key}.npy")
    if os.path.isfile(cache):
        return paths, np.load(cache)
    images = np.stack([preprocess(p) for p in paths])
    if not np.array_equal(images, np.rint(images)) or images.min() < 0 or images.max() > 255:
        raise SystemExit("preprocessed photos are not integers 0..255: the u8 input assumption fails")
    images = images.astype(np.uint8)
    os.makedirs(cache_dir, exist_ok=True)
    np.save(cache, images)
    return paths, images


def labels_of(paths, wnid_to_index):
    return np.array([wnid_to_index.get(os.path.basename(p).split("_", 1)[0], -1) for p in paths])


# ---------------------------------------------------------------------------------------------
# The folded float network (the fp32 baseline) with activation recording
# ---------------------------------------------------------------------------------------------

def fold(weight, bn):
    scale = bn["weight"] / np.sqrt(bn["running_var"] + BN_EPS)
    return weight * scale.reshape(-1, *([1] * (weight.ndim - 1))), bn["bias"] - bn["running_mean"] * scale


class FoldedNet:
    """Megvii's ShuffleNet v1 with BatchNorm folded, float64. `forward(x, record)` also stores the tensors an
    int8 engine quantizes, under the names used by the calibration (see `tensor_kinds`)."""

    def __init__(self, checkpoint):
        reference = ShuffleNetV1Reference(load_state_dict(checkpoint), checkpoint)
        self.reference = reference
        self.groups = reference.groups
        self.stem_w, self.stem_b = fold(reference._tensor("first_conv.0.weight"), reference._bn("first_conv.1"))
        self.units = []
        for u in reference.units:
            unit = {"stride": u["stride"], "g1": u["first_groups"]}
            for name in ("reduce", "depthwise", "expand"):
                unit[name + "_w"], unit[name + "_b"] = fold(u[name], u[name + "_bn"])
            self.units.append(unit)
        self.fc_w = reference.classifier

    def tensor_kinds(self):
        """name -> 'relu' (non-negative: u8 with zero point 0) or 'signed'."""
        kinds = {"stem": "relu", "pooled": "relu"}
        for i, u in enumerate(self.units):
            kinds.update({f"u{i}.reduce": "relu", f"u{i}.dw": "signed", f"u{i}.branch": "signed",
                          f"u{i}.out": "relu"})
        return kinds

    def forward(self, x, record=None):
        def keep(name, value):
            if record is not None:
                record.setdefault(name, []).append(value.astype(np.float32))
            return value
        b = lambda bias: bias[None, :, None, None]  # noqa: E731
        keep("input", x)
        x = keep("stem", relu(conv3x3_dense(x.astype(np.float64), self.stem_w, 2) + b(self.stem_b)))
        x = keep("stem.pool", max_pool3x3_s2(x))
        for i, u in enumerate(self.units):
            r = keep(f"u{i}.reduce", relu(conv1x1_grouped(x, u["reduce_w"], u["g1"]) + b(u["reduce_b"])))
            d = keep(f"u{i}.dw", conv3x3_depthwise(r, u["depthwise_w"], u["stride"]) + b(u["depthwise_b"]))
            if self.groups > 1:
                d = channel_shuffle(d, self.groups)
            e = keep(f"u{i}.branch", conv1x1_grouped(d, u["expand_w"], self.groups) + b(u["expand_b"]))
            x = relu(x + e) if u["stride"] == 1 else np.concatenate([avg_pool3x3_s2(x), relu(e)], axis=1)
            keep(f"u{i}.out", x)
        pooled = keep("pooled", x.mean(axis=(2, 3)))
        return pooled @ self.fc_w.T


def run_batches(function, images):
    return np.concatenate([function(images[i:i + BATCH].astype(np.float64)) for i in range(0, len(images), BATCH)])


# ---------------------------------------------------------------------------------------------
# Calibration: ranges per tensor from recorded fp32 activations
# ---------------------------------------------------------------------------------------------

class Calibration:
    """Per-tensor ranges over a subset of the calibration photos, by min/max, percentile or MSE."""

    def __init__(self, recorded, kinds, indices):
        self.kinds = kinds
        self.recorded = recorded
        self.indices = list(indices)
        self.flat = {}
        self.memo = {}

    def values(self, name):
        if name not in self.flat:
            self.flat[name] = np.concatenate([self.recorded[name][i].ravel() for i in self.indices])
        return self.flat[name]

    def channels(self, name):
        """(C, samples): the values of each channel."""
        arrays = [self.recorded[name][i] for i in self.indices]
        return np.concatenate([a.reshape(a.shape[0], -1) for a in arrays], axis=1)

    def mean(self, name):
        """Per-channel mean of the fp32 tensor (for bias correction)."""
        key = ("mean", name)
        if key not in self.memo:
            self.memo[key] = self.channels(name).astype(np.float64).mean(axis=1)
        return self.memo[key]

    def range(self, name, method, signed_mode, levels):
        """(lo, hi) real range that the `levels`-code grid covers for tensor `name`."""
        key = (name, method, signed_mode, levels)
        if key not in self.memo:
            self.memo[key] = self._range(self.values(name), self.kinds[name], method, signed_mode, levels)
        return self.memo[key]

    def channel_range(self, name, method, signed_mode, levels):
        """(lo[C], hi[C]): one range per channel."""
        key = ("channel", name, method, signed_mode, levels)
        if key not in self.memo:
            per = [self._range(v, self.kinds[name], method, signed_mode, levels) for v in self.channels(name)]
            self.memo[key] = (np.array([p[0] for p in per]), np.array([p[1] for p in per]))
        return self.memo[key]

    @staticmethod
    def _range(v, kind, method, signed_mode, levels):
        lo, hi = float(min(v.min(), 0.0)), float(max(v.max(), 0.0))
        symmetric = kind == "signed" and signed_mode == "s8sym"
        if v.size == 0 or hi - lo <= 0:
            return lo, lo + 1e-6
        if method == "minmax":
            pass
        elif method.startswith("p"):
            q = float(method[1:])
            if kind == "relu":
                hi = float(np.percentile(v, q))
            elif symmetric:
                t = float(np.percentile(np.abs(v), q))
                lo, hi = -t, t
            else:
                lo, hi = float(min(np.percentile(v, 100 - q), 0)), float(max(np.percentile(v, q), 0))
        elif method == "mse":
            lo, hi = mse_range(v, kind, symmetric, levels, lo, hi)
        else:
            raise ValueError(method)
        if symmetric:
            t = max(-lo, hi)
            lo, hi = -t, t
        return lo, max(hi, lo + 1e-12)


def mse_range(v, kind, symmetric, levels, lo, hi, bins=4096, candidates=120):
    """The clipping range (shrinking min/max by one factor) that minimises the quantization MSE of `v`,
    evaluated on a 4096-bin histogram (bin centres; the within-bin error is a constant)."""
    if symmetric:
        t = max(-lo, hi)
        lo, hi = -t, t
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    keep = counts > 0
    counts, centres = counts[keep].astype(np.float64), centres[keep]
    best = (np.inf, lo, hi)
    for f in np.geomspace(0.02, 1.0, candidates):
        a, b = lo * f, hi * f
        scale = (b - a) / (levels - 1)
        zero = np.round(-a / scale)
        q = np.clip(np.round(centres / scale) + zero, 0, levels - 1)
        error = float(np.sum(counts * (centres - (q - zero) * scale) ** 2))
        if error < best[0]:
            best = (error, a, b)
    return best[1], best[2]


# ---------------------------------------------------------------------------------------------
# The integer network
# ---------------------------------------------------------------------------------------------

BASELINE = {
    "w_pw": "channel",      # pointwise 1x1 convs (and stem and classifier when int8): per output channel or tensor
    "w_dw": "channel",      # depthwise 3x3
    "w_bits": 8,            # 8: [-127, 127]; 7: [-63, 63] (the AVX2 vpmaddubsw-safe choice)
    "a_bits": 8,            # activation codes: 8 (u8 0..255 / s8); 7 (u8 0..127 / s8 -63..63)
    "signed": "u8asym",     # the depthwise output (no ReLU): u8 asymmetric or s8 symmetric
    "calib": "minmax",      # minmax | p99.99 | p99.999 | mse
    "stem": "int8",         # conv1: int8 (u8 photo at scale 1 x s8 weights) or fp32 (output quantized to u8)
    "fc": "int8",           # classifier: int8 (pooled features requantized to u8) or fp32 (dequantized features)
    "residual": "fused",    # stride-1 add: fused (expand's epilogue adds the u8 input, one rounding) |
                            # separate (branch quantized on its own, then a requantizing add, as QDQ/QLinearAdd) |
                            # stage (every unit of a stage shares one output scale: integer add, no rescale of x)
    "concat": "requant",    # stride-2 concat: requant (own calibrated scale; the avg pool requantizes) |
                            # input (the concat keeps the input's scale: the pooled half is just sum/9)
    "requant": "fp32",      # epilogue: fp32 (float(acc) * M, round to nearest even) | fixed (int32 m, shift)
    "madd": "vnni",         # vnni (exact int32) | vpmaddubsw (u8 x s8 pairs saturate to int16, then int32)
    "a_reduce": "tensor",   # reduce output (post-ReLU u8): per tensor | per channel (free: the depthwise
                            # consumer multiplies by s_in[c] * s_w[c] anyway)
    "a_dw": "tensor",       # depthwise output: per tensor | per channel, folded into the expand weights
                            # (W[c, k] * s_k before quantizing; the shuffle permutes the scales along)
    "w_clip": "max",        # weight scale from max |w| | mse (per-channel MSE-optimal clip)
    "a_out": "tensor",      # stem and unit outputs: per tensor | per channel (folded into the next reduce conv's
                            # weights; the add, pool and concat epilogues take per-channel multipliers)
    "bias_corr": "none",    # none | mean: b -= sum_k (deq(Wq) - W)[c, k] * E[x_k] (calibration means)
    "bias": "int32",        # int32 at scale s_in * s_w[c], with s_w[c] raised where the bias would not fit (dead
                            # channels) | fp32 (added in the float epilogue: + b / s_out)
}
BIAS_LIMIT = 2 ** 30  # |int32 bias| stays below this, leaving 2^30 for the dot product (see the bounds).


def mse_clip(flat, qmax, candidates=60):
    """Per row: the clip t <= max|w| minimising sum (w - s * clamp(round(w / s)))^2, s = t / qmax."""
    m = np.abs(flat).max(axis=1)
    best_err = np.full(len(flat), np.inf)
    best = m.copy()
    for f in np.linspace(0.5, 1.0, candidates):
        t = np.where(m > 0, m * f, 1.0)
        s = (t / qmax)[:, None]
        err = ((flat - s * np.clip(np.round(flat / s), -qmax, qmax)) ** 2).sum(axis=1)
        better = err < best_err
        best_err[better], best[better] = err[better], (m * f)[better]
    return best


WEIGHT_CLIP = {"mode": "max"}  # Set per scheme by Int8Net (max | mse).


def quantize_weight(w, per_channel, bits, floor=None):
    """Symmetric: q = round(w / s), s = max|w| / (2^(bits-1) - 1) per output channel or for the tensor (or the
    MSE-optimal clip with w_clip=mse), and at least `floor` (per channel): raised where the int32 bias
    b / (s_in * s) would not fit."""
    qmax = 2 ** (bits - 1) - 1
    flat = np.abs(w).reshape(w.shape[0], -1)
    if WEIGHT_CLIP["mode"] == "mse":
        signed = w.reshape(w.shape[0], -1)
        m = mse_clip(signed, qmax) if per_channel else np.full(w.shape[0], mse_clip(signed.reshape(1, -1), qmax)[0])
    else:
        m = flat.max(axis=1) if per_channel else np.full(w.shape[0], flat.max())
    s = np.where(m > 0, m / qmax, 1.0)
    if floor is not None:
        s = np.maximum(s, floor) if per_channel else np.full(w.shape[0], max(s.max(), floor.max()))
    return np.clip(np.round(w / s.reshape(-1, *([1] * (w.ndim - 1)))), -qmax, qmax), s


class ActivationParams:
    """(scale, zero point, qmin, qmax) from a real range: per tensor (floats) or per channel ((C,) arrays)."""

    def __init__(self, lo, hi, kind, signed_mode, bits):
        lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
        self.per_channel = lo.ndim == 1
        if kind == "relu" or signed_mode == "u8asym":
            self.qmin, self.qmax = 0, 2 ** bits - 1
            self.scale = (hi - lo) / self.qmax
            self.zero = np.zeros_like(lo) if kind == "relu" else np.clip(np.round(-lo / self.scale), 0, self.qmax)
        else:
            self.qmin, self.qmax = -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1
            self.scale = np.maximum(-lo, hi) / self.qmax
            self.zero = np.zeros_like(lo)
        if not self.per_channel:
            self.scale, self.zero = float(self.scale), int(self.zero)

    def col(self, value):
        """A scale or zero vector as (1, C, 1, 1) for broadcasting over NCHW (scalars stay scalars)."""
        return np.asarray(value).reshape(1, -1, 1, 1) if self.per_channel else value

    def part(self, start, stop):
        """The parameters of channels start..stop (a concat's halves)."""
        if not self.per_channel:
            return self
        out = ActivationParams.__new__(ActivationParams)
        out.__dict__.update(self.__dict__)
        out.scale, out.zero = self.scale[start:stop], self.zero[start:stop]
        return out

    def shuffled(self, groups):
        """The parameters of the channel-shuffled tensor (per-channel scales move with their channels)."""
        if not self.per_channel or groups == 1:
            return self
        out = ActivationParams.__new__(ActivationParams)
        out.__dict__.update(self.__dict__)
        perm = lambda v: channel_shuffle(v.reshape(1, -1, 1, 1), groups).ravel()  # noqa: E731
        out.scale, out.zero = perm(self.scale), perm(self.zero)
        return out


def fixed_point(multiplier):
    """M = m * 2^-shift with m an int32 in [2^30, 2^31) (per element). Returns (m, shift) as int64 arrays."""
    multiplier = np.asarray(multiplier, dtype=np.float64)
    mantissa, exponent = np.frexp(multiplier)  # M = mantissa * 2^exponent, mantissa in [0.5, 1)
    m = np.round(mantissa * 2.0 ** 31).astype(np.int64)
    overflow = m == 2 ** 31
    m = np.where(overflow, m // 2, m)
    exponent = exponent + overflow
    return m, (31 - exponent).astype(np.int64)


def requantize_terms(terms, zero, qmin, qmax, mode):
    """clamp(round(sum_i acc_i * M_i) + zero): one rounding for the sum of terms (acc_i exact integers).
    fp32: each acc_i converted to float32, times float32 M_i, summed in float32, rint (half to even), as a
    vcvtdq2ps / vfmadd / vcvtps2dq epilogue. fixed: the M_i as int32 mantissas over a common shift, summed in
    int64, + 2^(shift-1), arithmetic shift right (round half up)."""
    if mode == "fp32":
        total = None
        for acc, m in terms:
            t = acc.astype(np.float32) * np.float32(1) * np.asarray(m, dtype=np.float32)
            total = t if total is None else (total + t).astype(np.float32)
        q = np.rint(total)
    else:
        # Common shift: the largest multiplier gets a 31-bit mantissa, the others are expressed over its shift.
        largest = max(float(np.max(m)) for _, m in terms)
        _, shift = fixed_point(largest)
        shift = int(shift)
        total = None
        for acc, m in terms:
            mi = np.round(np.asarray(m, dtype=np.float64) * 2.0 ** shift).astype(np.int64)
            t = np.rint(acc).astype(np.int64) * mi
            total = t if total is None else total + t
        q = (total + (1 << (shift - 1))) >> shift
    return np.clip(q + zero, qmin, qmax).astype(np.float64)


def conv1x1_saturating(x_u8, qw, groups):
    """vpmaddubsw model: products of adjacent input channels (u8 x s8) summed in pairs with int16 saturation,
    then the pairs summed exactly (vpmaddwd with ones, int32). Returns (acc, saturated pair count)."""
    n, c, h, w = x_u8.shape
    out = qw.shape[0]
    k = c // groups
    kp = k + (k % 2)
    xg = x_u8.reshape(n, groups, k, h * w)
    wg = qw.reshape(groups, out // groups, k)
    if kp != k:
        xg = np.concatenate([xg, np.zeros((n, groups, 1, h * w))], axis=2)
        wg = np.concatenate([wg, np.zeros((groups, out // groups, 1))], axis=2)
    xg = xg.reshape(n, groups, kp // 2, 2, h * w)
    wg = wg.reshape(groups, out // groups, kp // 2, 2)
    pairs = np.einsum("gokt,ngkth->ngokh", wg, xg, optimize=True)
    saturated = int(np.count_nonzero((pairs > INT16_MAX) | (pairs < -INT16_MAX - 1)))
    acc = np.clip(pairs, -INT16_MAX - 1, INT16_MAX).sum(axis=3)
    return acc.reshape(n, out, h, w), saturated


class Int8Net:
    """The integer network of `scheme` with ranges from `calibration`; `forward` returns float logits."""

    def __init__(self, net, calibration, scheme):
        self.net, self.s = net, scheme
        self.stats = {"max_abs_acc": 0.0, "saturated_pairs": 0, "pairs": 0}
        bits = scheme["a_bits"]
        levels = 2 ** bits

        def params(name, per_channel=False):
            kind = net.tensor_kinds()[name]
            get = calibration.channel_range if per_channel else calibration.range
            # Diagnostic: tensors whose name ends with one of scheme["wide"] get 16-bit codes.
            wide = any(name.endswith(suffix) for suffix in scheme.get("wide", ()))
            lo, hi = get(name, scheme["calib"], scheme["signed"], 2 ** 16 if wide else levels)
            return ActivationParams(lo, hi, kind, scheme["signed"], 16 if wide else bits)

        per_out = scheme["a_out"] == "channel"
        if per_out and (scheme["residual"] == "stage" or scheme["concat"] == "input"):
            raise ValueError("a_out=channel goes with residual=fused|separate and concat=requant")
        self.p_stem = params("stem", per_out)
        self.units = []
        stage_scale = None
        for i, u in enumerate(net.units):
            q = {"stride": u["stride"], "g1": u["g1"]}
            q["p_reduce"] = params(f"u{i}.reduce", scheme["a_reduce"] == "channel")
            q["p_dw"] = params(f"u{i}.dw", scheme["a_dw"] == "channel")
            q["p_branch"] = params(f"u{i}.branch")
            q["p_out"] = params(f"u{i}.out", per_out)
            if scheme["residual"] == "stage" and u["stride"] == 2:
                # One scale for the stage: the widest calibrated range of its units' outputs.
                end = next((j for j in range(i + 1, len(net.units)) if net.units[j]["stride"] == 2), len(net.units))
                his = [calibration.range(f"u{j}.out", scheme["calib"], scheme["signed"], levels)[1]
                       for j in range(i, end)]
                stage_scale = ActivationParams(0.0, max(his), "relu", scheme["signed"], bits)
            if scheme["residual"] == "stage":
                q["p_out"] = stage_scale
            self.units.append(q)
        if scheme["concat"] == "input":
            # The concat output keeps the scale of its input; stride-1 units after it keep their own.
            previous = self.p_stem
            for q in self.units:
                if q["stride"] == 2:
                    q["p_out"] = previous
                previous = q["p_out"]
        self.p_pooled = params("pooled")
        # Weights, now that every input scale is known (the int32 bias limit depends on s_in).
        pc_pw, pc_dw, wb = scheme["w_pw"] == "channel", scheme["w_dw"] == "channel", scheme["w_bits"]
        WEIGHT_CLIP["mode"] = scheme["w_clip"]
        self.raised_scales = 0

        def weights(w, b, s_in, per_channel, mean, groups, fold=None):
            """(codes, scales, bias): `fold` (C_in,) multiplies input channel k's weights (a per-channel input
            scale moved into the weights; then s_in is 1). Bias correction uses the fp32 input means."""
            real_w = w
            if fold is not None:
                out, k = w.shape[0], w.shape[1]
                per_row = fold.reshape(groups, k)[np.arange(out) // (out // groups)]  # (out, k)
                w = w * per_row[:, :, None, None]
            floor = None
            if scheme["bias"] == "int32":
                floor = np.abs(b) / (np.asarray(s_in) * BIAS_LIMIT)
                plain = quantize_weight(w, per_channel, wb)[1]
                self.raised_scales += int(np.count_nonzero(floor > plain))
            codes, scales = quantize_weight(w, per_channel, wb, floor)
            if scheme["bias_corr"] == "mean":
                deq = codes * scales.reshape(-1, *([1] * (w.ndim - 1)))
                if fold is not None:
                    deq = deq / per_row[:, :, None, None]
                error = deq - real_w
                if w.shape[1] == 1 and w.shape[0] == len(mean) and groups == len(mean):  # depthwise
                    shift = error.reshape(len(mean), -1).sum(axis=1) * mean
                elif w.ndim == 4 and w.shape[2] == 3:  # dense 3x3 (the stem)
                    shift = np.einsum("oikl,i->o", error, mean)
                else:  # grouped 1x1
                    shift = conv1x1_grouped(mean.reshape(1, -1, 1, 1), error, groups).ravel()
                b = b - shift
            return codes, scales, b

        self.stem_q, self.stem_s, self.stem_b = weights(net.stem_w, net.stem_b, 1.0, pc_pw,
                                                        calibration.mean("input"), 1)
        p_x = self.p_stem
        previous = "stem.pool"
        for i, (u, q) in enumerate(zip(net.units, self.units)):
            if p_x.per_channel:  # Per-channel input scales folded into the reduce weights (s_in = 1).
                q["reduce_q"], q["reduce_s"], q["reduce_b"] = weights(
                    u["reduce_w"], u["reduce_b"], 1.0, pc_pw, calibration.mean(previous), q["g1"], fold=p_x.scale)
            else:
                q["reduce_q"], q["reduce_s"], q["reduce_b"] = weights(
                    u["reduce_w"], u["reduce_b"], p_x.scale, pc_pw, calibration.mean(previous), q["g1"])
            mid = len(u["depthwise_b"])
            q["dw_q"], q["dw_s"], q["dw_b"] = weights(
                u["depthwise_w"], u["depthwise_b"], q["p_reduce"].scale, pc_dw, calibration.mean(f"u{i}.reduce"),
                mid)
            p_in = q["p_dw"].shuffled(net.groups)
            dw_mean = calibration.mean(f"u{i}.dw")
            if net.groups > 1:
                dw_mean = channel_shuffle(dw_mean.reshape(1, -1, 1, 1), net.groups).ravel()
            if p_in.per_channel:
                q["expand_q"], q["expand_s"], q["expand_b"] = weights(
                    u["expand_w"], u["expand_b"], 1.0, pc_pw, dw_mean, net.groups, fold=p_in.scale)
            else:
                q["expand_q"], q["expand_s"], q["expand_b"] = weights(
                    u["expand_w"], u["expand_b"], p_in.scale, pc_pw, dw_mean, net.groups)
            q["p_expand_in"] = p_in
            p_x = q["p_out"]
            previous = f"u{i}.out"
        self.fc_q, self.fc_s = quantize_weight(net.fc_w, pc_pw, wb)  # No bias in Megvii's classifier.

    # -- helpers ---------------------------------------------------------------------------------

    def _requant(self, terms, p, relu_clamp=False):
        zero, qmin = p.col(p.zero), p.qmin
        if relu_clamp:
            qmin = np.maximum(qmin, zero)  # ReLU fused: clamp at the code of real 0.
        return requantize_terms(terms, zero, qmin, p.qmax, self.s["requant"])

    def _note(self, dot):
        """Records the largest |dot product| (the accumulator before the bias is added)."""
        self.stats["max_abs_acc"] = max(self.stats["max_abs_acc"], float(np.max(np.abs(dot))))
        return dot

    def _pointwise(self, x_codes, p, qw, groups):
        """int32 accumulator of a grouped 1x1 conv on codes of activation `p` (u8 in the kernel)."""
        zero = p.zero
        if self.s["madd"] == "vpmaddubsw":
            # The kernel sees u8 codes: s8 symmetric inputs are shifted by +128 and compensated in the bias.
            shift = 128 if p.qmin < 0 else 0
            acc, saturated = conv1x1_saturating(x_codes + shift, qw, groups)
            self.stats["saturated_pairs"] += saturated
            self.stats["pairs"] += acc.size * ((qw.shape[1] + 1) // 2)
            offsets = np.ones((1, x_codes.shape[1], 1, 1)) * (shift + p.col(zero))
            return acc - conv1x1_grouped(offsets, qw, groups)
        return conv1x1_grouped(x_codes - p.col(zero), qw, groups)

    def _layer(self, dot, b, s_in, s_w, p_out, extra=(), relu_clamp=False):
        """Requantizes dot + bias (+ extra terms) to p_out. int32 bias: round(b / (s_in s_w)) joins the
        accumulator; fp32 bias: the epilogue adds b / s_out in float. s_in, s_w, p_out.scale: scalars or (C,)."""
        self._note(dot)
        multiplier = (s_in * s_w / p_out.scale * np.ones(len(b)))[None, :, None, None]
        if self.s["bias"] == "int32":
            terms = [(dot + np.round(b / (s_in * s_w))[None, :, None, None], multiplier)]
        else:
            terms = [(dot, multiplier),
                     (np.ones((1, len(b), 1, 1)), (b / p_out.scale * np.ones(len(b)))[None, :, None, None])]
        return self._requant(terms + list(extra), p_out, relu_clamp)

    # -- network ---------------------------------------------------------------------------------

    def forward(self, images):
        net, s = self.net, self.s
        if s["stem"] == "fp32":
            y = relu(conv3x3_dense(images, net.stem_w, 2) + net.stem_b[None, :, None, None])
            p = self.p_stem
            x = np.clip(np.rint(y / p.col(p.scale)), 0, p.qmax)
        else:  # The photo is u8 at scale 1 exactly.
            x = self._layer(conv3x3_dense(images, self.stem_q, 2), self.stem_b, 1.0, self.stem_s, self.p_stem,
                            relu_clamp=True)
        x = max_pool3x3_s2(x)  # On codes: monotonic, so exact.
        p_x = self.p_stem
        for u, q in zip(net.units, self.units):
            p_r = q["p_reduce"]
            r = self._layer(self._pointwise(x, p_x, q["reduce_q"], q["g1"]), q["reduce_b"],
                            1.0 if p_x.per_channel else p_x.scale, q["reduce_s"], p_r, relu_clamp=True)
            p_d = q["p_dw"]
            d = self._layer(conv3x3_depthwise(r - p_r.col(p_r.zero), q["dw_q"], u["stride"]), q["dw_b"], p_r.scale,
                            q["dw_s"], p_d)
            if net.groups > 1:
                d = channel_shuffle(d, net.groups)  # A permutation of codes: free with per-tensor scales.
            p_in = q["p_expand_in"]  # p_d with its per-channel scales (if any) shuffled along
            dot = self._pointwise(d, p_in, q["expand_q"], net.groups)
            s_in = 1.0 if p_in.per_channel else p_in.scale  # per-channel scales live in the weights
            p_o = q["p_out"]
            if u["stride"] == 1:
                if s["residual"] == "separate":
                    p_b = q["p_branch"]
                    branch = self._layer(dot, q["expand_b"], s_in, q["expand_s"], p_b)
                    x = self._requant([(branch - p_b.zero, p_o.col(p_b.scale / p_o.scale)),
                                       (x, p_o.col(p_x.scale / p_o.scale))], p_o, relu_clamp=True)
                else:  # fused and stage: one epilogue adds the input codes (stage: p_o is p_x, so M_x = 1)
                    x = self._layer(dot, q["expand_b"], s_in, q["expand_s"], p_o,
                                    extra=[(x, p_o.col(p_x.scale / p_o.scale))], relu_clamp=True)
            else:
                c_in = x.shape[1]
                p_pool, p_branch = p_o.part(0, c_in), p_o.part(c_in, None)
                window_sum = avg_pool3x3_s2(x) * 9.0  # Sum of 9 codes (zero padding = code 0 = real 0).
                pooled = self._requant([(np.rint(window_sum), p_pool.col(p_x.scale / (9.0 * p_pool.scale)))],
                                       p_pool)
                branch = self._layer(dot, q["expand_b"], s_in, q["expand_s"], p_branch, relu_clamp=True)
                x = np.concatenate([pooled, branch], axis=1)
            p_x = p_o
        total = x.sum(axis=(2, 3))  # Global average pool: a sum of 49 codes.
        if s["fc"] == "fp32":
            return (total * (np.asarray(p_x.scale) / (x.shape[2] * x.shape[3]))) @ net.fc_w.T
        p_p = self.p_pooled
        pooled = self._requant([(total[:, :, None, None],
                                 p_x.col(p_x.scale / (x.shape[2] * x.shape[3] * p_p.scale)))], p_p)
        if s["madd"] == "vpmaddubsw":
            acc = self._pointwise(pooled, p_p, self.fc_q[:, :, None, None], 1)[:, :, 0, 0]
        else:
            acc = pooled[:, :, 0, 0] @ self.fc_q.T
        self._note(acc)
        return acc * (p_p.scale * self.fc_s)[None, :]


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------

def top5(logits):
    return np.argsort(-logits, axis=1, kind="stable")[:, :5]


def compare(fp32, int8, labels=None):
    t5f, t5q = top5(fp32), top5(int8)
    agree = t5f[:, 0] == t5q[:, 0]
    sorted_f = np.sort(fp32, axis=1)
    margin = sorted_f[:, -1] - sorted_f[:, -2]
    result = {
        "n": len(fp32),
        "agree": int(agree.sum()),
        "top5_overlap": float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(t5f, t5q)])),
        "rel_err": float(np.mean(np.sqrt(np.mean((int8 - fp32) ** 2, axis=1)) / np.std(fp32, axis=1))),
        "margins_disagree": sorted(float(m) for m in margin[~agree]),
        "margin_all": margin,
    }
    if labels is not None:
        known = labels >= 0
        result["top1_fp32"] = int((t5f[known, 0] == labels[known]).sum())
        result["top1_int8"] = int((t5q[known, 0] == labels[known]).sum())
        result["labelled"] = int(known.sum())
    return result


def variant(**changes):
    scheme = dict(BASELINE)
    scheme.update(changes)
    return scheme


COMBINED_C = {"stem": "fp32", "bias_corr": "mean", "a_reduce": "channel", "a_dw": "channel"}
# The study: one change at a time from the baseline, grouped by question, then cumulative combinations.
STUDY = [
    ("Weights: per channel vs per tensor", [
        ("per-channel pointwise and depthwise (baseline)", {}),
        ("per-tensor pointwise", {"w_pw": "tensor"}),
        ("per-tensor depthwise", {"w_dw": "tensor"}),
        ("per-tensor both", {"w_pw": "tensor", "w_dw": "tensor"}),
    ]),
    ("Activations: the depthwise output (signed) as u8 asymmetric vs s8 symmetric", [
        ("u8 asymmetric (baseline)", {}),
        ("s8 symmetric", {"signed": "s8sym"}),
    ]),
    ("Calibration method (every activation tensor)", [
        ("min/max (baseline)", {}),
        ("percentile 99.999", {"calib": "p99.999"}),
        ("percentile 99.99", {"calib": "p99.99"}),
        ("MSE-optimal", {"calib": "mse"}),
    ]),
    ("Layers left in fp32", [
        ("all int8 (baseline)", {}),
        ("conv1 fp32", {"stem": "fp32"}),
        ("classifier fp32", {"fc": "fp32"}),
        ("conv1 and classifier fp32", {"stem": "fp32", "fc": "fp32"}),
    ]),
    ("Residual add (stride-1 units) and concat (stride-2 units)", [
        ("add fused in the expand epilogue, concat requantized (baseline)", {}),
        ("add after quantizing the branch separately (QDQ style)", {"residual": "separate"}),
        ("add with one scale per stage (no rescale of the input)", {"residual": "stage"}),
        ("concat keeps the input's scale (pooled half = sum/9)", {"concat": "input"}),
    ]),
    ("Bias correction (the mean weight-rounding error times the calibration mean of each input channel)", [
        ("none (baseline)", {}),
        ("bias correction", {"bias_corr": "mean"}),
    ]),
    ("Activation scale granularity (per-channel where it costs nothing at run time)", [
        ("per tensor (baseline)", {}),
        ("reduce output per channel (absorbed by the depthwise multiplier)", {"a_reduce": "channel"}),
        ("depthwise output per channel (folded into the expand weights, shuffled along)", {"a_dw": "channel"}),
        ("both per channel", {"a_reduce": "channel", "a_dw": "channel"}),
        ("stem and unit outputs per channel (folded into the next reduce conv)", {"a_out": "channel"}),
    ]),
    ("Weight clipping", [
        ("max abs w (baseline)", {}),
        ("MSE-optimal clip per channel", {"w_clip": "mse"}),
    ]),
    ("Int32 bias", [
        ("int32 bias, weight scale raised where it would overflow (baseline)", {}),
        ("bias added in the fp32 epilogue", {"bias": "fp32"}),
    ]),
    ("Requantization arithmetic", [
        ("fp32 multiplier, round to nearest even (baseline)", {}),
        ("fixed point: int32 multiplier and shift, round half up", {"requant": "fixed"}),
    ]),
    ("AVX2 without VNNI: vpmaddubsw (u8 x s8 pairs saturate to int16)", [
        ("vpdpbusd / exact int32 (baseline)", {}),
        ("vpmaddubsw, 8-bit activations and weights (saturating)", {"madd": "vpmaddubsw"}),
        ("vpmaddubsw, 7-bit activations", {"madd": "vpmaddubsw", "a_bits": 7}),
        ("vpmaddubsw, 7-bit weights", {"madd": "vpmaddubsw", "w_bits": 7}),
    ]),
    ("Combinations (cumulative)", [
        ("A: conv1 fp32", {"stem": "fp32"}),
        ("B: A + bias correction", {"stem": "fp32", "bias_corr": "mean"}),
        ("C: B + per-channel reduce and depthwise outputs", COMBINED_C),
        ("D: C + percentile 99.999", dict(COMBINED_C, calib="p99.999")),
        ("E: C + MSE calibration", dict(COMBINED_C, calib="mse")),
        ("F: D + classifier fp32", dict(COMBINED_C, calib="p99.999", fc="fp32")),
        ("G: D + 7-bit weights (AVX2 vpmaddubsw without saturation)", dict(COMBINED_C, calib="p99.999", w_bits=7,
                                                                          madd="vpmaddubsw")),
        ("H: D with conv1 int8", dict(COMBINED_C, calib="p99.999", stem="int8")),
        ("I: D + per-channel stem and unit outputs", dict(COMBINED_C, calib="p99.999", a_out="channel")),
    ]),
]
UNSEEN = ("per-channel pointwise and depthwise (baseline)", "A: conv1 fp32", "B: A + bias correction",
          "C: B + per-channel reduce and depthwise outputs", "D: C + percentile 99.999", "E: C + MSE calibration",
          "H: D with conv1 int8", "I: D + per-channel stem and unit outputs")
QUICK_SKIP = {"reduce output per channel (absorbed by the depthwise multiplier)",
              "depthwise output per channel (folded into the expand weights, shuffled along)",
              "E: C + MSE calibration", "G: D + 7-bit weights (AVX2 vpmaddubsw without saturation)",
              "H: D with conv1 int8", "MSE-optimal clip per channel", "bias added in the fp32 epilogue",
              "vpmaddubsw, 8-bit activations and weights (saturating)", "per-tensor pointwise", "per-tensor both", "percentile 99.99",
              "conv1 and classifier fp32", "fixed point: int32 multiplier and shift, round half up",
              "vpmaddubsw, 7-bit activations", "vpmaddubsw, 7-bit weights"}


# ---------------------------------------------------------------------------------------------
# Accumulator bounds
# ---------------------------------------------------------------------------------------------

STAGE2_AT_1X = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}


def widths(scale, groups):
    """ShuffleNetConfiguration.init(scale:groups:) (Sources/ShuffleNetEngine/ShuffleNetConfiguration.swift)."""
    unit = 4 * groups
    stage2 = max(unit, int(math.floor(STAGE2_AT_1X[groups] * scale / unit + 0.5)) * unit)
    stem = {0.5: 16 if groups == 8 else 12, 1.0: 24, 1.5: 24, 2.0: 48}.get(
        scale, max(groups, int(math.floor(24 * scale / groups + 0.5)) * groups))
    return stem, [stage2, 2 * stage2, 4 * stage2]


def reductions(scale, groups):
    """The reduction length K of every integer dot product: (largest pointwise K, classifier K)."""
    stem, stages = widths(scale, groups)
    ks = []
    inp = stem
    for stage, (repeats, out) in enumerate(zip((4, 8, 4), stages)):
        for position in range(repeats):
            g1 = 1 if stage == 0 and position == 0 else groups
            ks.append(inp // g1)          # reduce 1x1
            ks.append(out // 4 // groups)  # expand 1x1 (mid / g)
            inp = out
    return max(ks), stages[-1]


def bounds_table():
    lines = ["| s | g | stem, stages | largest pointwise K | classifier K | worst |acc| u8 x s8 (K * 255 * 128) "
             "| of int32 max |", "|---|---|---|---:|---:|---:|---:|"]
    worst = 0
    for scale in (0.5, 1.0, 1.5, 2.0):
        for groups in (1, 2, 3, 4, 8):
            stem, stages = widths(scale, groups)
            k_pw, k_fc = reductions(scale, groups)
            k = max(k_pw, k_fc, 27)
            bound = k * 255 * 128
            worst = max(worst, bound)
            lines.append(f"| {scale:g} | {groups} | {stem}, {'/'.join(map(str, stages))} | {k_pw} | {k_fc} "
                         f"| {bound:,} | {bound / INT32_MAX:.3%} |")
    return "\n".join(lines), worst


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

def fmt_margins(margins):
    return ", ".join(f"{m:.2f}" for m in margins) if margins else "none"


def run_model(name, checkpoint, imagenet, labels, unseen, quick, log):
    net = FoldedNet(checkpoint)
    t0 = time.time()
    recorded = {}
    fp32_imagenet = np.concatenate([
        net.forward(imagenet[i:i + BATCH].astype(np.float64), recorded) for i in range(0, len(imagenet), BATCH)])
    # recorded[name] is a list of batches; split into per-image arrays.
    per_image = {k: [img for batch in v for img in batch] for k, v in recorded.items()}
    del recorded
    check = net.reference.forward(imagenet[:2].astype(np.float64))
    fold_error = float(np.max(np.abs(check - fp32_imagenet[:2])) / np.max(np.abs(check)))
    log(f"{name}: fp32 forward of {len(imagenet)} photos in {time.time() - t0:.1f} s "
        f"(folded vs unfolded reference: {fold_error:.1e} of the largest logit)")
    kinds = net.tensor_kinds()
    n = len(imagenet)
    folds = [np.arange(0, n, 2), np.arange(1, n, 2)]
    calibrations = [Calibration(per_image, kinds, folds[1 - f]) for f in range(2)]  # calibrate on the other half
    full = Calibration(per_image, kinds, np.arange(n))
    del per_image

    results = []
    for question, variants in STUDY:
        for label, changes in variants:
            if quick and label in QUICK_SKIP:
                continue
            scheme = variant(**changes)
            t1 = time.time()
            int8 = np.zeros_like(fp32_imagenet)
            stats = {"max_abs_acc": 0.0, "saturated_pairs": 0, "pairs": 0}
            for f in range(2):
                model = Int8Net(net, calibrations[f], scheme)
                int8[folds[f]] = run_batches(model.forward, imagenet[folds[f]])
                stats["max_abs_acc"] = max(stats["max_abs_acc"], model.stats["max_abs_acc"])
                stats["saturated_pairs"] += model.stats["saturated_pairs"]
                stats["pairs"] += model.stats["pairs"]
            metrics = compare(fp32_imagenet, int8, labels)
            metrics.update(stats)
            results.append((question, label, scheme, metrics))
            log(f"  {name} | {label}: agree {metrics['agree']}/{metrics['n']}, top-1 {metrics['top1_int8']} "
                f"(fp32 {metrics['top1_fp32']}), rel. logit error {metrics['rel_err']:.3f} ({time.time() - t1:.1f} s)")
    return net, full, fp32_imagenet, results


def main(argv):
    default_shared = os.environ.get("SHUFFLENET_SHARED_DATA",
                                    os.path.join(os.path.dirname(ROOT), "shared", "data", "shufflenet_v1"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer variants, 60 unseen photos")
    parser.add_argument("--models", default="g3,g8", help="g3, g8 or both (0.5x Megvii checkpoints)")
    parser.add_argument("--shared-data", default=default_shared)
    parser.add_argument("--hymenoptera", help="unseen photos (default SHARED_DATA/../hymenoptera/train)")
    parser.add_argument("--recommended", default="D: C + percentile 99.999",
                        help="the study row recommended (written in the header; its unseen results come first)")
    parser.add_argument("--output", help="write the results (markdown) here")
    args = parser.parse_args(argv)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    started = datetime.datetime.now(datetime.timezone.utc)
    cache = os.path.join(ROOT, ".build", "int8-study")
    hymenoptera = args.hymenoptera or os.path.join(os.path.dirname(args.shared_data), "hymenoptera", "train")
    paths, imagenet = load_images(os.path.join(args.shared_data, "imagenet-sample-images"), cache)
    labels = labels_of(paths, read_class_wnids(os.path.join(ROOT, "Weights", "imagenet-classes.tsv")))
    unseen_paths, unseen = load_images(hymenoptera, cache)
    if args.quick:
        unseen = unseen[::4]
    log(f"{len(imagenet)} ImageNet photos ({int((labels >= 0).sum())} labelled), {len(unseen)} unseen photos")
    rows = {label: variant(**changes) for _, variants in STUDY for label, changes in variants}
    if args.recommended not in rows:
        parser.error(f"--recommended {args.recommended!r}: not a study row")
    recommended_scheme = rows[args.recommended]
    unseen_labels = [label for label in UNSEEN if not (args.quick and label in QUICK_SKIP)]

    out = [f"# int8 study results ({started:%Y-%m-%d %H:%M} UTC{', --quick' if args.quick else ''})", "",
           f"Baseline scheme: `{BASELINE}`", "",
           f"Recommended scheme ({args.recommended}): `{recommended_scheme}`", "",
           "2-fold on the 50 ImageNet photos: each photo is quantized with ranges calibrated on the other 25. "
           "agree = int8 top-1 equals fp32 top-1; top-1 = correct labels (fp32 in brackets); top-5 overlap = "
           "mean |top5(int8) & top5(fp32)| / 5; rel. err = mean over photos of RMS(int8 - fp32 logits) / "
           "std(fp32 logits); max |acc| = the largest int32 accumulator seen.", ""]
    all_results = {}
    for model in args.models.split(","):
        checkpoint = os.path.join(args.shared_data, "weights", f"megvii_ShuffleNetV1_0.5x_{model}.pth.tar")
        net, full, fp32_imagenet, results = run_model(model, checkpoint, imagenet, labels, unseen, args.quick, log)
        all_results[model] = results
        t0 = time.time()
        unseen_rows = []
        fp32_unseen = run_batches(net.forward, unseen)
        for label in unseen_labels:
            m = compare(fp32_unseen, run_batches(Int8Net(net, full, rows[label]).forward, unseen))
            unseen_rows.append((label, m))
            log(f"  {model} unseen | {label}: agree {m['agree']}/{m['n']}, top-5 overlap {m['top5_overlap']:.3f}")
        # The recommended scheme calibrated on all 50 and evaluated on the same 50 (seen), for reference.
        seen = compare(fp32_imagenet, run_batches(Int8Net(net, full, recommended_scheme).forward, imagenet), labels)
        log(f"  {model}: unseen and seen evaluations in {time.time() - t0:.1f} s")
        out += [f"## 0.5x {model}", ""]
        question = None
        for q, label, scheme, m in results:
            if q != question:
                out += ["", f"### {q}", "",
                        "| variant | agree (of 50) | top-1 int8 (fp32) | top-5 overlap | rel. err | max abs acc "
                        "| fp32 margins where int8 disagrees |", "|---|---:|---:|---:|---:|---:|---|"]
                question = q
            extra = ""
            if m["pairs"]:
                extra = f" (saturated pairs: {m['saturated_pairs']} of {m['pairs']:,})"
            out.append(f"| {label}{extra} | {m['agree']} | {m['top1_int8']} ({m['top1_fp32']}) "
                       f"| {m['top5_overlap']:.3f} | {m['rel_err']:.3f} | {m['max_abs_acc']:,.0f} "
                       f"| {fmt_margins(m['margins_disagree'])} |")
        margins = np.sort(seen["margin_all"])
        out += ["", "### Unseen photos (hymenoptera, not ImageNet classes; calibrated on all 50 ImageNet photos)", "",
                "| scheme | agree | top-5 overlap | rel. err | fp32 margins where int8 disagrees |",
                "|---|---:|---:|---:|---|"]
        for label, m in unseen_rows:
            out.append(f"| {label}{' (recommended)' if label == args.recommended else ''} | {m['agree']}/{m['n']} ({m['agree'] / m['n']:.1%}) | {m['top5_overlap']:.3f} "
                       f"| {m['rel_err']:.3f} | {fmt_margins(m['margins_disagree'])} |")
        um = unseen_rows[-1][1]["margin_all"]
        out += ["", f"fp32 top1-top2 margin over all unseen photos: median {np.median(um):.2f}, 10th percentile "
                f"{np.percentile(um, 10):.2f}, min {um.min():.2f}; over the 50 ImageNet photos: median "
                f"{np.median(margins):.2f}, 10th percentile {np.percentile(margins, 10):.2f}, min {margins.min():.2f}.",
                "", f"Recommended scheme calibrated on all 50 and evaluated on the same 50 (seen): agree "
                f"{seen['agree']}/50, top-1 {seen['top1_int8']} (fp32 {seen['top1_fp32']}), rel. err "
                f"{seen['rel_err']:.3f}.", ""]
    table, worst = bounds_table()
    out += ["## Accumulator bounds (every s in {0.5, 1, 1.5, 2} and g in {1, 2, 3, 4, 8})", "",
            "K = the longest reduction of one output (1x1 convs: input channels per group; the classifier: its input "
            "width; the stem is 27, depthwise 9).", "", table, "",
            f"Worst case over all: {worst:,} = {worst / INT32_MAX:.2%} of int32 max.", ""]
    text = "\n".join(out)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
