"""Quantization-aware fine-tuning screen for the int8 scheme (Scripts/int8_study.md, section 10).

The int8 network of `int8_study_calibration.py` (the same maps, per-row symmetric s8 weights, the depthwise output
scales folded into expand's rows) written in PyTorch with straight-through rounding, so its weights and biases can
be trained to pull its logits towards the fp32 network's (distillation, no labels) on the 20 views of each
calibration photo. Activation maps stay fixed (the mse calibration). `--stream` instead keeps the residual stream
(stem and unit outputs) in fp32 and quantizes only the compress convolutions' inputs, to see how much the
per-unit requantization of that stream costs, and `--dynamic KINDS` takes those points' ranges from each image at
run time (dynamic quantization). `--heldout` trains on 25 of the 50 photos and counts agreement on
the other 25's views (2 folds, 1,000 inputs), as the calibration study's `--heldout-views`.

Needs PyTorch, which the project does not depend on; PyPI's Linux wheel brings about 4 GB of CUDA libraries, so
use a separate environment:

    python3 -m venv /tmp/tv && /tmp/tv/bin/pip install torch numpy opencv-python-headless pillow
    /tmp/tv/bin/python Scripts/int8_study_qat.py --models g3,g8 --heldout --init default --loss mse --lr 2e-5 --epochs 6
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import int8_study_calibration as st  # noqa: E402
import reference_forward as rf  # noqa: E402
from torch_legacy_reader import load_state_dict  # noqa: E402

torch.set_num_threads(2)
f32 = np.float32
STREAM = False
DYNAMIC = ""
DEPTHWISE_FACTOR = False
KEEP_FP32 = ""


def ste_round(x):
    return x + (torch.round(x) - x).detach()


def fq_act(v, scale, z):
    """scale, z: tensors broadcastable to v (per channel along dim 1) or scalars."""
    lo = -z * scale
    hi = (255 - z) * scale
    v = torch.maximum(torch.minimum(v, hi), lo)
    return ste_round(v / scale) * scale


def fq_rows(w):
    """Per-row symmetric s8 (scale max|w| / 127, not differentiated)."""
    flat = w.reshape(w.shape[0], -1)
    s = (flat.abs().amax(1) / 127).clamp_min(1e-12).detach()
    shape = (-1,) + (1,) * (w.ndim - 1)
    return torch.clamp(ste_round(w / s.reshape(shape)), -127, 127) * s.reshape(shape)


def shuffle(x, g):
    if g == 1:
        return x
    n, c, h, w = x.shape
    return x.reshape(n, c // g, g, h, w).transpose(1, 2).reshape(n, c, h, w)


class Net(torch.nn.Module):
    def __init__(self, net, maps, quantize=True):
        super().__init__()
        self.g = net["groups"]
        self.quantize = quantize
        t = lambda a: torch.nn.Parameter(torch.tensor(np.asarray(a, f32)))
        self.stem_w, self.stem_b = t(net["stem"][0]), t(net["stem"][1])
        self.units = net["units"]
        self.params = torch.nn.ParameterList()
        self.meta = []
        for u in net["units"]:
            for k in ("cw", "cb", "dw", "db", "ew", "eb"):
                self.params.append(t(u[k]))
            self.meta.append((u["stride"], u["g1"]))
        self.fc, self.fcb = t(net["fc"]), t(net["fcb"])
        self.maps = {}
        if maps is not None:
            for name, (s, z) in maps.items():
                self.maps[name] = (torch.tensor(s, dtype=torch.float32), torch.tensor(z, dtype=torch.float32))

    def q(self, name, v):
        if not self.quantize:
            return v
        kind = name if isinstance(name, str) else name[0]
        if kind in KEEP_FP32:
            return v
        if kind == "d" and DEPTHWISE_FACTOR:
            # The static per-channel maps times one factor per image, the smallest that clips no channel: a scale
            # the expand convolution could absorb in its output multipliers.
            s, z = self.maps[name]
            shape = (1, -1) + (1,) * (v.ndim - 2)
            s, z = s.reshape(shape), z.reshape(shape)
            hi, lo = (255 - z) * s, -z * s
            vh = v.amax(dim=tuple(range(2, v.ndim)), keepdim=True)
            vl = v.amin(dim=tuple(range(2, v.ndim)), keepdim=True)
            r = torch.maximum(vh / hi.clamp_min(1e-12), torch.where(lo < 0, vl / lo.clamp_max(-1e-12), torch.zeros_like(vl)))
            return fq_act(v, s * r.amax(dim=1, keepdim=True).clamp_min(1e-6), z)
        if kind in DYNAMIC:
            # Ranges from this image alone (min/max, nothing clipped): over the whole tensor at one-map points,
            # over each channel at compress and depthwise outputs.
            dims = tuple(range(1, v.ndim)) if kind in "sop" else tuple(range(2, v.ndim))
            hi = v.amax(dim=dims, keepdim=True).clamp_min(0)
            lo = v.amin(dim=dims, keepdim=True).clamp_max(0) if kind == "d" else torch.zeros_like(hi)
            s = ((hi - lo) / 255).clamp_min(1e-12)
            z = torch.clamp(torch.round(-lo / s), 0, 255)
            return fq_act(v, s, z)
        s, z = self.maps[name]
        if s.numel() > 1:
            shape = (1, -1) + (1,) * (v.ndim - 2)
            s, z = s.reshape(shape), z.reshape(shape)
        else:
            s, z = s[0], z[0]
        return fq_act(v, s, z)

    def w(self, w):
        return fq_rows(w) if self.quantize else w

    def forward(self, x):
        y = F.conv2d(x, self.stem_w, self.stem_b, stride=2, padding=1)
        y = F.max_pool2d(F.relu(y), 3, 2, 1)
        if not STREAM:
            y = self.q("s", y)
        g = self.g
        for i, (stride, g1) in enumerate(self.meta):
            cw, cb, dw, db, ew, eb = self.params[6 * i:6 * i + 6]
            prev = "s" if i == 0 else ("o", i - 1)
            yq = self.q(prev, y) if STREAM else y
            a = F.conv2d(yq, self.w(cw)[:, :, None, None], cb, groups=g1)
            a = self.q(("c", i), F.relu(a))
            d = F.conv2d(a, self.w(dw).reshape(-1, 1, 3, 3), db, stride=stride, padding=1, groups=dw.shape[0])
            d = self.q(("d", i), d)
            s = shuffle(d, g)
            if self.quantize:
                ds = shuffle(self.maps[("d", i)][0].reshape(1, -1, 1, 1), g).reshape(-1)  # input column scales
                o, per = ew.shape
                sj = ds.reshape(g, per)[torch.arange(o) // (o // g)]  # (O, per)
                ewq = fq_rows(ew * sj) / sj
            else:
                ewq = ew
            e = F.conv2d(s, ewq[:, :, None, None], eb, groups=g)
            if stride == 1:
                y = F.relu(y + e)
            else:
                y = torch.cat([F.avg_pool2d(y, 3, 2, 1, count_include_pad=True), F.relu(e)], 1)
            if not STREAM:
                y = self.q(("o", i), y)
        feat = self.q("p", y.mean((2, 3)))
        return feat @ self.w(self.fc).T + self.fcb


def logits(model, x, n=50):
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(np.ascontiguousarray(x[i:i + n]))).numpy() for i in range(0, len(x), n)])


def train(model, teacher_logits, x, epochs, lr, batch, temp, seed=0):
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith("stem") or ARGS.train_stem], lr=lr)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    tl = torch.from_numpy(teacher_logits)
    for ep in range(epochs):
        order = rng.permutation(len(x))
        tot = 0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            xb = torch.from_numpy(np.ascontiguousarray(x[idx]))
            out = model(xb)
            t = tl[idx]
            if ARGS.loss == "kl":
                loss = F.kl_div(F.log_softmax(out / temp, 1), F.log_softmax(t / temp, 1), log_target=True,
                                reduction="batchmean") * temp * temp
            else:
                loss = ((out - t) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
        print(f"    epoch {ep}: loss {tot / len(x):.4f}", flush=True)


def agreement(model, x, ref):
    out = logits(model, x)
    return int((out.argmax(1) == ref.argmax(1)).sum()), float(np.mean(np.sqrt(((out - ref) ** 2).mean(1)) / ref.std(1)))


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="g3")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--batch", type=int, default=25)
    p.add_argument("--temp", type=float, default=1.0)
    p.add_argument("--loss", default="mse", help="mse (on the logits) or kl (softmax at --temp)")
    p.add_argument("--train-stem", action="store_true")
    p.add_argument("--heldout", action="store_true")
    p.add_argument("--init", default="default",
                   help="default: start from what `quantize` makes (gptq codes, corrected biases); fp32: the folded fp32 weights")
    p.add_argument("--train-on", default="views", help="views | center")
    p.add_argument("--stream", action="store_true", help="residual stream fp32; only compress inputs quantized")
    p.add_argument("--dynamic", default="", help="kinds of points ('s', 'c', 'd', 'o', 'p') whose ranges come from "
                   "each image at run time instead of the calibration (expand's weights still use the static depthwise "
                   "scales)")
    p.add_argument("--fp32", default="", help="kinds of points left unquantized ('d': what 16-bit depthwise outputs "
                   "into expand would compute, to within 16-bit rounding)")
    p.add_argument("--depthwise-factor", action="store_true",
                   help="depthwise outputs: the static maps times one factor per image (the smallest that clips none)")
    ARGS = p.parse_args()
    global STREAM, DYNAMIC, DEPTHWISE_FACTOR, KEEP_FP32
    STREAM, DYNAMIC, DEPTHWISE_FACTOR, KEEP_FP32 = ARGS.stream, ARGS.dynamic, ARGS.depthwise_factor, ARGS.fp32
    calib_paths = rf.expand_inputs([st.CALIB])
    xc = st.load_inputs(calib_paths, "calib")
    xu = st.load_inputs(rf.expand_inputs(st.UNSEEN), "unseen")
    xu = np.concatenate([xu, xu[..., ::-1]])
    held = st.load_views(calib_paths, "calib")  # (50, 20, 3, 224, 224)
    for m in ARGS.models.split(","):
        model = rf.ShuffleNetV1Reference(load_state_dict(st.CHECKPOINTS[m]), st.CHECKPOINTS[m])
        net = st.fold(model)
        teacher = Net(net, None, quantize=False).eval()
        fu = logits(teacher, xu)
        fu_np = st.batched(lambda x: st.forward(net, x), xu[:50])
        print(f"# {m}: torch fp32 vs numpy fp32 max diff {np.abs(fu[:50] - fu_np).max():.2e}", flush=True)
        folds = [("all", np.arange(50), None)]
        if ARGS.heldout:
            folds = [("fold0", np.arange(0, 50, 2), np.arange(1, 50, 2)), ("fold1", np.arange(1, 50, 2), np.arange(0, 50, 2))]
        total_before = total_after = 0
        for fname, tr, ev in folds:
            qz = st.Quantizer(net, xc[tr])
            qnet, maps = qz.build(method="mse", weight_rounding="gptq" if ARGS.init == "default" else "nearest")
            student = Net(qnet if ARGS.init == "default" else net, maps)
            xt = held[tr].reshape(-1, 3, 224, 224) if ARGS.train_on == "views" else xc[tr]
            tl = logits(teacher, xt)
            b_u = agreement(student, xu, fu)
            if ARGS.init == "default" and not (STREAM or DYNAMIC or DEPTHWISE_FACTOR or KEEP_FP32):
                # the PyTorch int8 network against the study's NumPy one with the same codes and maps
                ref_q = st.batched(lambda x: st.quantized_forward(qnet, maps, x), xu[:50])
                same = int((logits(student, xu[:50]).argmax(1) == ref_q.argmax(1)).sum())
                print(f"  {fname}: top-1 of the PyTorch and NumPy int8 networks equal on {same}/50 unseen", flush=True)
            line = f"  {fname} before: unseen {b_u[0]}/{len(xu)} rel {b_u[1]:.4f}"
            if ev is not None:
                xv = held[ev].reshape(-1, 3, 224, 224)
                fv = logits(teacher, xv)
                b_v = agreement(student, xv, fv)
                line += f" | held-out views {b_v[0]}/{len(xv)} rel {b_v[1]:.4f}"
                total_before += b_v[0]
            print(line, flush=True)
            t = time.time()
            train(student, tl, xt, ARGS.epochs, ARGS.lr, ARGS.batch, ARGS.temp)
            student.eval()
            a_u = agreement(student, xu, fu)
            line = f"  {fname} after ({time.time() - t:.0f}s): unseen {a_u[0]}/{len(xu)} rel {a_u[1]:.4f}"
            if ev is not None:
                a_v = agreement(student, xv, fv)
                line += f" | held-out views {a_v[0]}/{len(xv)} rel {a_v[1]:.4f}"
                total_after += a_v[0]
            a_t = agreement(student, xt, tl)
            line += f" | train {a_t[0]}/{len(xt)} rel {a_t[1]:.4f}"
            print(line, flush=True)
        if ARGS.heldout:
            print(f"# {m}: held-out views before {total_before}/1000, after {total_after}/1000", flush=True)


if __name__ == "__main__":
    main()
