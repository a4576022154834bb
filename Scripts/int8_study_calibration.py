#!/usr/bin/env python3
"""How to choose int8 ranges and weight codes for the fixed int8 scheme (Weights/README.md, "int8 files").

A fake-quantized float32 simulation of `shufflenet quantize` + the int8 reference: every stored activation is
replaced by `scale * (clamp(rint(v / scale) + z, 0, 255) - z)` with the file's maps, every weight by its
dequantized s8 code, so the network computes what the integer kernels compute (up to float32 rounding order). The
quantizer mirrors Calibration.swift: per-channel maps for compress and depthwise outputs, one map per unit output
and for the pooled features, conv1 fp32, the depthwise output scales folded into expand's weights, analytic bias
correction. Each variant changes only how maps / weight codes / biases are chosen (the arithmetic and the file
format stay fixed).

    .venv/bin/python Scripts/int8_study_calibration.py --variants "baseline;method='mse',weight_rounding='gptq'"

Calibration: the 50 shared ImageNet photos. Unseen: hymenoptera train/{ants,bees} (244 photos; with --flip also
mirrored, 488). --heldout-views adds a 2-fold ImageNet estimate (calibrate on 25 photos, evaluate the other 25's 20
views each); --points the logit error each quantization point adds alone. Besides `Quantizer.build`'s keywords a
variant may set `kinds` (the kinds of points quantized), `keep_fp32` (a point_filter spec of points left in fp32)
and `calib_views` (calibrate on those views of each photo). Scripts/int8_study.md sections 8 and 9 have the results.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward as rf  # noqa: E402
from torch_legacy_reader import load_state_dict  # noqa: E402

f32 = np.float32
SHARED = "/work/shared/data"
CALIB = f"{SHARED}/shufflenet_v1/imagenet-sample-images"
UNSEEN = [f"{SHARED}/hymenoptera/train/ants", f"{SHARED}/hymenoptera/train/bees"]
CHECKPOINTS = {"g3": f"{SHARED}/shufflenet_v1/weights/megvii_ShuffleNetV1_0.5x_g3.pth.tar",
               "g8": f"{SHARED}/shufflenet_v1/weights/megvii_ShuffleNetV1_0.5x_g8.pth.tar"}
CACHE = "/tmp/calib/cache"


# --------------------------------------------------------------------------------------------- network

def fold(model):
    def bn(w, p):
        s = p["weight"] / np.sqrt(p["running_var"] + rf.BN_EPS)
        return (w * s.reshape(-1, *([1] * (w.ndim - 1)))).astype(f32), (p["bias"] - p["running_mean"] * s).astype(f32)
    st = model.state
    stem = bn(st["first_conv.0.weight"], model._bn("first_conv.1"))
    units = []
    for u in model.units:
        cw, cb = bn(u["reduce"], u["reduce_bn"])
        dw, db = bn(u["depthwise"], u["depthwise_bn"])
        ew, eb = bn(u["expand"], u["expand_bn"])
        units.append(dict(stride=u["stride"], g1=u["first_groups"], cin=u["in_channels"],
                          cw=cw.reshape(cw.shape[0], -1), cb=cb, dw=dw.reshape(dw.shape[0], 9), db=db,
                          ew=ew.reshape(ew.shape[0], -1), eb=eb))
    return dict(groups=model.groups, stem=stem, units=units, fc=model.classifier.astype(f32),
                fcb=np.zeros(model.classifier.shape[0], f32))


def pw(x, w, b, groups):
    """x (N, C, H, W); w (O, C/g); grouped 1x1."""
    n, c, h, wd = x.shape
    o = w.shape[0]
    xr = x.reshape(n, groups, c // groups, h * wd)
    wr = w.reshape(groups, o // groups, c // groups)
    y = np.einsum("goc,ngcp->ngop", wr, xr, optimize=True).reshape(n, o, h, wd)
    return (y + b[None, :, None, None]).astype(f32)


def dwconv(x, w, b, stride):
    n, c, h, wd = x.shape
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = (h - 1) // stride + 1
    acc = np.zeros((n, c, out, out), f32)
    for ky in range(3):
        for kx in range(3):
            acc += w[:, ky * 3 + kx][None, :, None, None] * p[:, :, ky:ky + stride * (out - 1) + 1:stride, kx:kx + stride * (out - 1) + 1:stride]
    return acc + b[None, :, None, None]


def shuffle(x, groups):
    return rf.channel_shuffle(x, groups) if groups > 1 else x


def shuffle_vec(v, groups):
    return shuffle(v[None, :, None, None], groups)[0, :, 0, 0] if groups > 1 else v


def forward(net, x, hook=lambda name, v: v, layer=None):
    """x (N, 3, 224, 224). hook(name, v) may replace the tensor stored at each quantization point; layer(name,
    input, output) sees each quantized layer's input and output before the activation."""
    w, b = net["stem"]
    y = rf.conv3x3_dense(x.astype(np.float64), w.astype(np.float64), 2) + b[None, :, None, None]
    y = rf.max_pool3x3_s2(np.maximum(y, 0)).astype(f32)
    y = hook("s", y)
    g = net["groups"]
    for i, u in enumerate(net["units"]):
        a = pw(y, u["cw"], u["cb"], u["g1"])
        if layer:
            r = layer(("c", i), y, a)
            a = a if r is None else r
        a = hook(("c", i), np.maximum(a, 0))
        d = dwconv(a, u["dw"], u["db"], u["stride"])
        if layer:
            r = layer(("d", i), a, d)
            d = d if r is None else r
        d = hook(("d", i), d)
        s = shuffle(d, g)
        e = pw(s, u["ew"], u["eb"], g)
        if layer:
            r = layer(("e", i), s, e)
            e = e if r is None else r
        if u["stride"] == 1:
            y = np.maximum(y + e, 0)
        else:
            y = np.concatenate([rf.avg_pool3x3_s2(y.astype(np.float64)).astype(f32), np.maximum(e, 0)], axis=1)
        y = hook(("o", i), y)
    feat = y.mean(axis=(2, 3))
    feat = hook("p", feat)
    return feat @ net["fc"].T + net["fcb"]


# --------------------------------------------------------------------------------------------- quantizer

def amap(lo, hi):
    """ActivationQuantization(lower:upper:) in float32."""
    lo, hi = f32(min(lo, 0)), f32(max(hi, 0))
    scale = f32((hi - lo) / f32(255)) if hi > lo else f32(1)
    z = int(np.clip(np.rint(-lo / scale), 0, 255))
    return scale, z


def fq(v, scale, z):
    """Fake quantization; scale, z broadcast over channel axis 1 (or scalars)."""
    inv = (f32(1) / np.asarray(scale, f32)).astype(f32)
    q = np.clip(np.rint(v * inv) + z, 0, 255)
    return (scale * (q - z)).astype(f32)


def expand_c(a, ndim):
    return np.asarray(a).reshape((1, -1) + (1,) * (ndim - 2))


def qweights(w):
    """Per-row symmetric s8: scale max|w|/127."""
    m = np.abs(w).max(axis=1)
    s = np.where(m > 0, m / 127, 1).astype(f32)
    q = np.clip(np.rint(w / s[:, None]), -127, 127)
    return q, s


ACT_ORDER = False


def gptq_act_order(w, s, h):
    """GPTQ with the inputs taken in decreasing order of their energy (diag H), GPTQ's act-order option."""
    if h.shape[0] == w.shape[0] and h.strides[0] == 0:
        h = h[:1]  # one matrix shared by every row (the classifier, ungrouped convolutions)
    order = np.argsort(-np.einsum("...ii->...i", h).reshape(-1, h.shape[-1]).mean(0), kind="stable")
    hp = h[..., order, :][..., :, order]
    factor = hinv_factor(hp)
    if factor.shape[0] == 1:
        factor = np.broadcast_to(factor, (w.shape[0],) + factor.shape[1:])
    q = gptq(w[:, order], s, factor)
    out = np.empty_like(q)
    out[:, order] = q
    return out


def gptq(w, s, hinv_chol, rows_per=1):
    """GPTQ rounding with fixed per-row scales: w (O, K); hinv_chol (O, K, K) the upper Cholesky factor of each
    row's inverse Hessian (rows of one group share one). Rounds column by column, spreading each column's error
    over the columns not yet rounded so as to keep X w unchanged on the calibration inputs."""
    w = w.astype(np.float64).copy()
    o, k = w.shape
    q = np.zeros_like(w)
    if rows_per > 1:
        hinv_chol = np.repeat(hinv_chol, rows_per, axis=0) if hinv_chol.shape[0] * rows_per == o and hinv_chol.shape[0] < 64 else hinv_chol
    if hinv_chol.shape[0] == 1:
        hinv_chol = np.broadcast_to(hinv_chol, (o, k, k))
    for i in range(k):
        qi = np.clip(np.rint(w[:, i] / s), -127, 127)
        q[:, i] = qi
        d = hinv_chol[:, i, i]
        err = (w[:, i] - qi * s) / d
        if i + 1 < k:
            w[:, i + 1:] -= err[:, None] * hinv_chol[:, i, i + 1:]
    return q


def hinv_factor(h, damp=0.01):
    """h (..., K, K): the upper Cholesky factor of (h + damp * mean diag * I)^-1."""
    k = h.shape[-1]
    d = np.einsum("...ii->...i", h).mean(-1)
    h = h + (damp * np.maximum(d, 1e-12))[..., None, None] * np.eye(k)
    inv = np.linalg.inv(h)
    inv = (inv + np.swapaxes(inv, -1, -2)) / 2
    return np.swapaxes(np.linalg.cholesky(inv), -1, -2)


def gram_pointwise(x, groups, rows):
    """x (N, C, H, W) layer input: per output row, the Gram matrix of its group's inputs (O, K, K)."""
    n, c, h, w = x.shape
    xr = x.reshape(n, groups, c // groups, h * w).transpose(1, 2, 0, 3).reshape(groups, c // groups, -1).astype(np.float64)
    g = np.einsum("gkp,glp->gkl", xr, xr) / xr.shape[-1]
    return np.repeat(g, rows // groups, axis=0) if groups > 1 else g


def gram_depthwise(x, stride):
    n, c, h, w = x.shape
    p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).astype(np.float64)
    out = (h - 1) // stride + 1
    taps = np.stack([p[:, :, ky:ky + stride * (out - 1) + 1:stride, kx:kx + stride * (out - 1) + 1:stride]
                     for ky in range(3) for kx in range(3)], axis=2)  # N, C, 9, out, out
    t = taps.transpose(1, 2, 0, 3, 4).reshape(c, 9, -1)
    return np.einsum("ckp,clp->ckl", t, t) / t.shape[-1]


def mse_range(values, signed, bins=2048, grid=256):
    """The clip range minimizing the expected squared error of quantizing `values` (1-D) onto 255 steps, from a
    histogram: values inside the range cost step^2 / 12 (rounding), values outside (v - bound)^2 (clipping).
    Unsigned: the upper bound searched over grid fractions of the max; signed: lower and upper fractions
    independently."""
    vmax = max(float(values.max()), 0.0)
    vmin = min(float(values.min()), 0.0) if signed else 0.0
    if vmax <= vmin:
        return vmin, vmax
    n, edges = np.histogram(values, bins=bins, range=(vmin, vmax))
    n = n.astype(np.float64)
    c = (edges[:-1] + edges[1:]) / 2
    # prefix sums: clipping cost above hi = sum n (c - hi)^2 over c > hi, below lo likewise
    cn, cc, cq = (np.concatenate([[0], np.cumsum(v)]) for v in (n, n * c, n * c * c))
    fr = np.arange(1, grid + 1) / grid
    his = vmax * fr
    los = vmin * fr if signed and vmin < 0 else np.array([vmin])
    hi_i = np.searchsorted(c, his, side="right")  # bins [hi_i:] are above hi
    lo_i = np.searchsorted(c, los, side="left")   # bins [:lo_i] are below lo
    total_n, total_c, total_q = cn[-1], cc[-1], cq[-1]
    above = ((total_q - cq[hi_i]) - 2 * his * (total_c - cc[hi_i]) + his ** 2 * (total_n - cn[hi_i]))
    below = (cq[lo_i] - 2 * los * cc[lo_i] + los ** 2 * cn[lo_i])
    inside = cn[hi_i][None, :] - cn[lo_i][:, None]
    step = (his[None, :] - los[:, None]) / 255
    err = below[:, None] + above[None, :] + inside * step ** 2 / 12
    li, hi = np.unravel_index(int(np.argmin(err)), err.shape)
    return float(los[li]), float(his[hi])


def percentile_range(values, signed, p):
    n = values.size
    rank = max(1, int(np.ceil((100 - p) / 100 * n)))
    rank = min(rank, n)
    hi = float(np.partition(values, n - rank)[n - rank])
    lo = float(np.partition(values, rank - 1)[rank - 1]) if signed else 0.0
    return lo, hi


class Quantizer:
    """Statistics of the fp32 activations on the calibration photos and the int8 network they give."""

    def __init__(self, net, calib_inputs):
        self.net = net
        self.acts = {}
        self.layer_io = {}
        self.inputs = calib_inputs
        self.fp32_logits = forward(net, calib_inputs)
        self.layer_means = {}
        forward(net, calib_inputs, hook=self._record,
                layer=lambda name, i, o: self.layer_means.__setitem__(name, o.mean(axis=(0, 2, 3), dtype=np.float64)))

    def _record(self, name, v):
        self.acts[name] = v
        return v

    def values(self, name, channel=None):
        v = self.acts[name]
        if channel is None:
            return v.reshape(-1)
        return v[:, channel].reshape(-1)

    def ranges(self, name, per_channel, signed, method):
        v = self.acts[name]
        chans = range(v.shape[1]) if per_channel else [None]
        out = []
        for c in chans:
            vals = self.values(name, c)
            out.append(choose(vals, signed, method))
        return out

    def search_tensor_ranges(self, q, maps, fractions=(1.0, 0.85, 0.7, 0.55, 0.4)):
        """Greedy, in network order: each one-map point (stem, unit outputs, pooled features) gets the fraction of
        its range whose int8 network gives the smallest logits error on the calibration photos."""
        target = self.fp32_logits
        def loss():
            out = quantized_forward(q, maps, self.inputs)
            return float(((out - target) ** 2).mean())
        names = ["s"] + [("o", i) for i in range(len(q["units"]))] + ["p"]
        chosen = {}
        for name in names:
            s0, z0 = maps[name]
            hi = float(s0[0]) * 255
            best = None
            for f in fractions:
                maps[name] = np.array([f32(hi * f / 255)], f32), np.array([0], f32)
                l = loss()
                if best is None or l < best[0] - 1e-12:
                    best = (l, f)
            maps[name] = np.array([f32(hi * best[1] / 255)], f32), np.array([0], f32)
            chosen[name] = best[1]
        print("   chosen fractions:", " ".join(f"{v:.2f}" for v in chosen.values()), flush=True)
        return maps

    def build(self, method="percentile", point_methods=None, weight_rounding="nearest", bias_correction="analytic", search=False,
              per_channel="", fc_fp32=False):
        """The int8 network as dequantized weights + maps. point_methods: {'c'|'d'|'o'|'s'|'p': method};
        per_channel: the one-map points ('s', 'o', 'p') that get a map per channel instead; fc_fp32: the classifier
        keeps its fp32 weights (run it with kinds without 'p' for fp32 features too)."""
        net = self.net
        pm = point_methods or {}
        maps = {}

        def mapping(name, kind, per_channel, signed):
            ranges = self.ranges(name, per_channel, signed, pm.get(kind, method))
            sz = [amap(lo, hi) for lo, hi in ranges]
            return np.array([s for s, _ in sz], f32), np.array([z for _, z in sz], f32)

        maps["s"] = mapping("s", "s", "s" in per_channel, False)
        q = dict(groups=net["groups"], stem=net["stem"], units=[], fc=None, fcb=None)
        for i, u in enumerate(net["units"]):
            maps[("c", i)] = mapping(("c", i), "c", True, False)
            maps[("d", i)] = mapping(("d", i), "d", True, True)
            maps[("o", i)] = mapping(("o", i), "o", "o" in per_channel, False)
        maps["p"] = mapping("p", "p", "p" in per_channel, False)
        self.maps = maps

        g = net["groups"]
        prev = "s"
        for i, u in enumerate(net["units"]):
            x_mean = self.acts[prev].mean(axis=(0, 2, 3))
            gram = (lambda: gram_pointwise(self.acts[prev], u["g1"], u["cw"].shape[0]))
            cw, cb = self.quant_layer(u["cw"], u["cb"], x_mean, u["g1"], weight_rounding, bias_correction, gram=gram)
            c_mean = self.acts[("c", i)].mean(axis=(0, 2, 3))
            gram = (lambda: gram_depthwise(self.acts[("c", i)], u["stride"]))
            dw, db = self.quant_layer(u["dw"], u["db"], None, 1, weight_rounding, bias_correction, dw_mean=c_mean, gram=gram)
            ds = shuffle_vec(maps[("d", i)][0], g)
            d_mean = shuffle_vec(self.acts[("d", i)].mean(axis=(0, 2, 3)), g)
            # expand: quantize W * s_j (code units), bias correction in code units
            per = u["ew"].shape[1]
            sj = np.stack([ds[(o // (u["ew"].shape[0] // g)) * per:(o // (u["ew"].shape[0] // g)) * per + per]
                           for o in range(u["ew"].shape[0])])
            mj = np.stack([d_mean[(o // (u["ew"].shape[0] // g)) * per:(o // (u["ew"].shape[0] // g)) * per + per]
                           for o in range(u["ew"].shape[0])])
            scaled = (u["ew"] * sj).astype(f32)
            wq, wsc = qweights(scaled)
            if weight_rounding == "fp32":
                wq, wsc = scaled / 1, np.ones(scaled.shape[0], f32)
            if weight_rounding in ("gptq", "gptq-act"):
                xs = shuffle(self.acts[("d", i)], g) / ds[None, :, None, None]
                gm = gram_pointwise(xs, g, scaled.shape[0])
                if g == 1:
                    gm = np.broadcast_to(gm, (scaled.shape[0],) + gm.shape[1:])
                wq = gptq(scaled, wsc, hinv_factor(gm)) if weight_rounding == "gptq" else gptq_act_order(scaled, wsc, gm)
            deq = (wq * wsc[:, None]).astype(np.float64)
            eb = u["eb"].astype(np.float64)
            if bias_correction != "none":
                eb = eb - ((deq - scaled) * (mj / sj)).sum(axis=1)
            ew = (deq / sj).astype(f32)
            q["units"].append(dict(u, cw=cw, cb=cb, dw=dw, db=db, ew=ew, eb=eb.astype(f32)))
            prev = ("o", i)
        p_mean = self.acts["p"].mean(axis=0)
        pa = self.acts["p"].astype(np.float64)
        gram = (lambda: (pa.T @ pa / len(pa))[None])
        fcw, fcb = self.quant_layer(net["fc"], net["fcb"], p_mean, 1, "fp32" if fc_fp32 else weight_rounding, bias_correction, gram=gram)
        q["fc"], q["fcb"] = fcw, fcb
        if search:
            maps = self.search_tensor_ranges(q, maps)
        if bias_correction == "sequential":
            # One pass of the int8 network over the calibration photos, in order: each layer's bias is shifted so
            # that its mean output per channel equals fp32's, given the (already corrected) quantized layers above.
            key = {"c": ("cb", None), "d": ("db", None), "e": ("eb", None)}
            def fix(name, inp, out):
                kind, i = name
                delta = out.mean(axis=(0, 2, 3), dtype=np.float64) - self.layer_means[name]
                unit = q["units"][i]
                unit[key[kind][0]] = (unit[key[kind][0]] - delta).astype(f32)
                return (out - delta[None, :, None, None]).astype(f32)
            quantized_forward(q, maps, self.inputs, layer=fix)
        if bias_correction.startswith("network:"):
            # Rounds of: run the whole int8 network on the calibration photos, then shift every layer's bias by its
            # mean output difference from fp32 (all layers at once), what the Swift reference's `means` gives.
            key = {"c": "cb", "d": "db", "e": "eb"}
            for _ in range(int(bias_correction.split(":")[1])):
                deltas = {}
                def record(name, inp, out):
                    deltas[name] = out.mean(axis=(0, 2, 3), dtype=np.float64) - self.layer_means[name]
                quantized_forward(q, maps, self.inputs, layer=record)
                for (kind, i), delta in deltas.items():
                    unit = q["units"][i]
                    unit[key[kind]] = (unit[key[kind]] - delta).astype(f32)
        return q, maps

    def quant_layer(self, w, b, x_mean, groups, weight_rounding, bias_correction, dw_mean=None, gram=None):
        wq, s = qweights(w)
        if weight_rounding == "gptq":
            wq = gptq(w, s, hinv_factor(gram()))
        elif weight_rounding == "gptq-act":
            g = gram()
            wq = gptq_act_order(w, s, np.broadcast_to(g, (w.shape[0],) + g.shape[1:]) if g.shape[0] == 1 else g)
        elif weight_rounding == "fp32":
            return w, b
        deq = (wq * s[:, None]).astype(np.float64)
        b = b.astype(np.float64)
        if bias_correction != "none":
            if dw_mean is not None:
                means = np.repeat(dw_mean[:, None], w.shape[1], axis=1)
            else:
                o, per = w.shape
                means = np.stack([x_mean[(r // (o // groups)) * per:(r // (o // groups)) * per + per] for r in range(o)])
            b = b - ((deq - w) * means).sum(axis=1)
        return deq.astype(f32), b.astype(f32)


def choose(vals, signed, method):
    if method == "minmax":
        return (float(vals.min()) if signed else 0.0), float(vals.max())
    if method.startswith("percentile"):
        p = float(method.split(":")[1]) if ":" in method else 99.999
        return percentile_range(vals, signed, p)
    if method == "mse":
        return mse_range(vals, signed)
    raise ValueError(method)


def point_filter(spec):
    """The points a spec names, as a predicate on hook names: entries separated by spaces, each a kind letter
    ('s', 'c', 'd', 'o', 'p') with an optional unit or unit range ('o0', 'c0-3'): "s o0 c0-3 d0-3"."""
    entries = []
    for item in spec.split():
        kind, units = item[0], item[1:]
        lo, _, hi = units.partition("-")
        entries.append((kind, int(lo) if lo else None, int(hi) if hi else (int(lo) if lo else None)))
    def contains(name):
        kind, unit = (name, None) if isinstance(name, str) else name
        return any(k == kind and (lo is None or (unit is not None and lo <= unit <= hi)) for k, lo, hi in entries)
    return contains


def quantized_forward(qnet, maps, x, kinds="scdop", layer=None, keep_fp32=""):
    """keep_fp32: a point_filter spec of points left unquantized (what a mixed-precision network would compute)."""
    fp32 = point_filter(keep_fp32)
    def hook(name, v):
        kind = name if isinstance(name, str) else name[0]
        if kind not in kinds or fp32(name):
            return v
        s, z = maps[name]
        if v.ndim == 2:
            return fq(v, s[None, :], z[None, :]) if s.size > 1 else fq(v, s[0], z[0])
        return fq(v, expand_c(s, v.ndim) if s.size > 1 else s[0], expand_c(z, v.ndim) if z.size > 1 else z[0])
    return forward(qnet, x, hook, layer)


# --------------------------------------------------------------------------------------------- data

def load_inputs(paths, name):
    os.makedirs(CACHE, exist_ok=True)
    path = f"{CACHE}/{name}.npy"
    if os.path.exists(path):
        return np.load(path)
    x = np.stack([rf.preprocess(p) for p in paths]).astype(f32)
    np.save(path, x)
    return x


def views(path):
    """20 network inputs from one photo: short side 256 and 288, five 224 crops each (centre, four corners), each
    also mirrored. The centre crop at 256 is `rf.preprocess`'s."""
    import cv2
    from PIL import Image
    with Image.open(path) as image:
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    h, w = bgr.shape[:2]
    out = []
    for short in (256, 288):
        size = (int(short / h * w + 0.5), short) if h < w else (short, int(short / w * h + 0.5))
        r = cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)
        rh, rw = r.shape[:2]
        for top, left in [(int(round((rh - 224) / 2.0)), int(round((rw - 224) / 2.0))), (0, 0), (0, rw - 224),
                          (rh - 224, 0), (rh - 224, rw - 224)]:
            crop = r[top:top + 224, left:left + 224].transpose(2, 0, 1).astype(f32)
            out += [crop, crop[..., ::-1]]
    return np.stack(out)


def load_views(paths, name):
    path = f"{CACHE}/{name}-views.npy"
    if os.path.exists(path):
        return np.load(path)
    v = np.stack([views(p) for p in paths])
    np.save(path, v)
    return v


def batched(fn, x, n=25):
    return np.concatenate([fn(x[i:i + n]) for i in range(0, len(x), n)])


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="g3,g8")
    parser.add_argument("--variants", default="baseline")
    parser.add_argument("--flip", action="store_true", help="also count the unseen photos mirrored (twice the samples)")
    parser.add_argument("--heldout-views", action="store_true",
                        help="also 2-fold on the 50 ImageNet photos: calibrate on 25, count agreement on the other 25's "
                             "20 views each (2 sizes x 5 crops x mirror: 1,000 inputs over both folds)")
    parser.add_argument("--points", action="store_true",
                        help="for each variant, the logit error each quantization point adds alone (in quadrature "
                             "over the weights-only error), on the unseen photos")
    args = parser.parse_args(argv)
    calib_paths = rf.expand_inputs([CALIB])
    unseen_paths = rf.expand_inputs(UNSEEN)
    xc = load_inputs(calib_paths, "calib")
    xu = load_inputs(unseen_paths, "unseen")
    if args.flip:
        xu = np.concatenate([xu, xu[..., ::-1]])
    wnids = rf.read_class_wnids(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Weights", "imagenet-classes.tsv"))
    labels = np.array([wnids[os.path.basename(p).split("_", 1)[0]] for p in calib_paths])
    held = load_views(calib_paths, "calib") if args.heldout_views else None
    folds = [np.arange(0, 50, 2), np.arange(1, 50, 2)]
    held_fp32 = {}
    for m in args.models.split(","):
        model = rf.ShuffleNetV1Reference(load_state_dict(CHECKPOINTS[m]), CHECKPOINTS[m])
        net = fold(model)
        fc = batched(lambda x: forward(net, x), xc)
        fu = batched(lambda x: forward(net, x), xu)
        t = time.time()
        qz = Quantizer(net, xc)
        print(f"# {m}: fp32 top-1 on the 50: {(fc.argmax(1) == labels).sum()}; stats {time.time() - t:.1f}s", flush=True)
        for variant in args.variants.split(";"):
            kw = eval(f"dict({variant})") if variant != "baseline" else {}
            t = time.time()
            kinds = kw.pop("kinds", "scdop")
            keep = kw.pop("keep_fp32", "")
            calib_views = kw.pop("calib_views", None)  # e.g. list(range(20)): calibrate on these views of each photo
            if calib_views is None:
                qnet, maps = qz.build(**kw)
            else:
                qnet, maps = Quantizer(net, load_views(calib_paths, "calib")[:, calib_views].reshape(-1, 3, 224, 224)).build(**kw)
            ic = batched(lambda x: quantized_forward(qnet, maps, x, kinds, keep_fp32=keep), xc)
            iu = batched(lambda x: quantized_forward(qnet, maps, x, kinds, keep_fp32=keep), xu)
            agree_u = (iu.argmax(1) == fu.argmax(1)).sum()
            agree_c = (ic.argmax(1) == fc.argmax(1)).sum()
            rel = np.mean(np.sqrt(((iu - fu) ** 2).mean(1)) / fu.std(1))
            # How far int8 moves the gap between fp32's top two classes, against how small those gaps are: a photo
            # flips when the move exceeds its gap (both in units of the photo's fp32 logit spread).
            rows = np.arange(len(fu))
            first, second = fu.argmax(1), np.argsort(fu, 1)[:, -2]
            gap = (fu[rows, first] - fu[rows, second]) / fu.std(1)
            moved = ((iu[rows, first] - iu[rows, second]) - (fu[rows, first] - fu[rows, second])) / fu.std(1)
            flips = iu.argmax(1) != fu.argmax(1)
            extra = ""
            if held is not None:
                agree_v = 0
                for k in range(2):
                    xv = held[folds[1 - k]].reshape(-1, 3, 224, 224)
                    qk, mk = Quantizer(net, xc[folds[k]]).build(**kw)
                    if (m, k) not in held_fp32:  # fp32's logits of the views: once per model and fold
                        held_fp32[(m, k)] = batched(lambda x: forward(net, x), xv)
                    fv = held_fp32[(m, k)]
                    iv = batched(lambda x: quantized_forward(qk, mk, x, kinds, keep_fp32=keep), xv)
                    agree_v += (iv.argmax(1) == fv.argmax(1)).sum()
                extra = f" | held-out views {agree_v}/1000"
            if args.points:
                def rel_err(out):
                    return np.mean(np.sqrt(((out - fu) ** 2).mean(1)) / fu.std(1))
                names = ["s"] + [(k, i) for i in range(len(net["units"])) for k in "cdo"] + ["p"]
                base = rel_err(batched(lambda x: quantized_forward(qnet, maps, x, ""), xu))
                added = []
                for name in names:
                    only = " ".join(f"{n}" if isinstance(n, str) else f"{n[0]}{n[1]}" for n in names if n != name)
                    e = rel_err(batched(lambda x: quantized_forward(qnet, maps, x, keep_fp32=only), xu))
                    added.append(f"{name if isinstance(name, str) else name[0] + str(name[1])} {np.sqrt(max(e * e - base * base, 0)):.4f}")
                print(f"   weights only {base:.4f}; each point alone adds: " + ", ".join(added), flush=True)
            print(f"{m} | {variant} | unseen {agree_u}/{len(xu)} ({100 * agree_u / len(xu):.1f}%){extra} | calib {agree_c}/50 | "
                  f"top-1 {(ic.argmax(1) == labels).sum()} (fp32 {(fc.argmax(1) == labels).sum()}) | rel.err {rel:.4f} | "
                  f"gap move sd {moved.std():.3f}, gaps < 0.1: {(gap < 0.1).mean() * 100:.0f}%, flipped gaps <= "
                  f"{gap[flips].max() if flips.any() else 0:.2f} | {time.time() - t:.0f}s",
                  flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
