#!/usr/bin/env python3
"""Rechecking int8 near ties (Scripts/int8_study.md, section 11), simulated on the study's int8 network
(`int8_study_calibration.py`, defaults `method='mse', weight_rounding='gptq'`).

For each margin `tau`, an int8 answer whose top-two logit gap is below `tau` is replaced by a recheck network's:
  * w8: the int8 weights dequantized, fp32 activations (what a recheck without extra weights could compute);
  * f16: the fp32 network's folded weights rounded to binary16, fp32 activations (what `classify` computes).
Printed per model and evaluation set (the 244 unseen photos and their mirrors; 1,000 held-out views of the 50
ImageNet photos, 2 folds calibrated on the other 25): the share rechecked and int8's top-1 agreement with fp32.

    .venv/bin/python Scripts/int8_study_recheck.py g3,g8
"""
import sys

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import int8_study_calibration as st  # noqa: E402
from int8_study_calibration import Quantizer, batched, fold, forward, load_state_dict, quantized_forward  # noqa: E402

rf = st.rf
KW = dict(method="mse", weight_rounding="gptq")
TAUS = [0, 0.1, 0.2, 0.3, 0.5, 0.75]


def half(net):
    """The folded network with every weight but conv1's rounded to binary16."""
    f16 = lambda a: a.astype(np.float16).astype(np.float32)
    h = dict(net)
    h["units"] = [dict(u, cw=f16(u["cw"]), dw=f16(u["dw"]), ew=f16(u["ew"])) for u in net["units"]]
    h["fc"] = f16(net["fc"])
    return h


def gap(logits):
    s = np.sort(logits, 1)
    return s[:, -1] - s[:, -2]


def report(name, fp32, int8, rechecks):
    top = fp32.argmax(1)
    print(f"{name}: n={len(fp32)}, int8 as computed {(int8.argmax(1) == top).sum()}, "
          + ", ".join(f"{k} alone {(v.argmax(1) == top).sum()}" for k, v in rechecks.items()))
    g = gap(int8)
    for tau in TAUS:
        near = g < tau
        cells = [f"{k} {(np.where(near, v.argmax(1), int8.argmax(1)) == top).sum()}" for k, v in rechecks.items()]
        print(f"  tau {tau:4.2f}: rechecked {near.mean() * 100:5.1f}%  agree: " + ", ".join(cells))


def main(models):
    calib_paths = rf.expand_inputs([st.CALIB])
    xc = st.load_inputs(calib_paths, "calib")
    xu = st.load_inputs(rf.expand_inputs(st.UNSEEN), "unseen")
    xu = np.concatenate([xu, xu[..., ::-1]])
    held = st.load_views(calib_paths, "calib")
    folds = [np.arange(0, 50, 2), np.arange(1, 50, 2)]
    for m in models.split(","):
        net = fold(rf.ShuffleNetV1Reference(load_state_dict(st.CHECKPOINTS[m]), st.CHECKPOINTS[m]))
        h = half(net)
        qnet, maps = Quantizer(net, xc).build(**KW)
        run = lambda n, x: batched(lambda b: forward(n, b), x)
        report(f"{m} unseen x2", run(net, xu), batched(lambda b: quantized_forward(qnet, maps, b), xu),
               {"w8": batched(lambda b: quantized_forward(qnet, maps, b, ""), xu), "f16": run(h, xu)})
        parts = {"fp32": [], "int8": [], "w8": [], "f16": []}
        for k in range(2):
            xv = held[folds[1 - k]].reshape(-1, 3, 224, 224)
            qk, mk = Quantizer(net, xc[folds[k]]).build(**KW)
            parts["fp32"].append(run(net, xv))
            parts["int8"].append(batched(lambda b: quantized_forward(qk, mk, b), xv))
            parts["w8"].append(batched(lambda b: quantized_forward(qk, mk, b, ""), xv))
            parts["f16"].append(run(h, xv))
        p = {k: np.concatenate(v) for k, v in parts.items()}
        report(f"{m} held-out views", p["fp32"], p["int8"], {"w8": p["w8"], "f16": p["f16"]})


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "g3,g8")
