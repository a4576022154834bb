"""Independent NumPy reference of Megvii's ShuffleNet v1 evaluation: checkpoint -> preprocessing -> logits.

Makes a JSON file of logits that the Swift engine's tests compare against:
    {"checkpoint": ..., "groups": g,
     "images": [{"path": ..., "logits": [1000 floats], "top5": [5 class indices, best first]}, ...]}
and prints top-1 / top-5 accuracy when image names start with their wnid (`n01440764_tench.JPEG`).

Rerun:
    .venv/bin/python Scripts/reference_forward.py \
        --checkpoint /work/shared/data/shufflenet_v1/weights/megvii_ShuffleNetV1_0.5x_g3.pth.tar \
        --output /tmp/refs_g3.json /work/shared/data/shufflenet_v1/imagenet-sample-images
Options: --groups G (checked against the weights), --features (also "features": the pooled features, the
classifier's input, per image), --dump-input DIR (one <name>.npy float32 3x224x224
BGR tensor per image), --decimals N (round logits in the JSON), --classes TSV (wnid list for accuracy).

Deliberately written apart from the Swift engine so that the two can disagree:
* float64 throughout; BatchNorm applied as its own step with running statistics (eps 1e-5), never
  folded into the convolutions.
* the network follows Megvii's ShuffleNetV1 network.py / blocks.py (stages of 4, 8, 4 units; see
  `forward_unit`), with group count and widths read from the weight shapes.
* preprocessing follows Megvii's train.py validation transform (see `preprocess`).
torch is not used; checkpoints are read by torch_legacy_reader.py.
"""

import argparse
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_legacy_reader import CheckpointFormatError, load_state_dict  # noqa: E402

BN_EPS = 1e-5
STAGE_REPEATS = (4, 8, 4)  # Megvii's ShuffleNetV1: the first unit of each stage has stride 2.
RESIZE_SHORT_SIDE = 256
CROP_SIZE = 224
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
BATCH_SIZE = 10  # Images per forward pass: bounds memory (conv1's im2col is ~2.7 MB per image in float64).


class ReferenceInputError(Exception):
    """A problem with the inputs of the reference run; the message names the file and the problem."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")


# ---------------------------------------------------------------------------------------------
# Preprocessing (Megvii train.py: OpencvResize(256), CenterCrop(224), ToBGRTensor)
# ---------------------------------------------------------------------------------------------

def preprocess(path):
    """Returns the network input for one image: float32 (3, 224, 224), BGR, values 0..255, no mean/std."""
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))  # Grey and palette images become 3 equal channels.
    except (OSError, ValueError) as error:
        raise ReferenceInputError(path, f"cannot decode image ({error})") from error
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    height, width = bgr.shape[:2]
    # Megvii's OpencvResize: short side to 256, long side scaled and rounded half up. cv2 takes (w, h).
    if height < width:
        target = (int(RESIZE_SHORT_SIDE / height * width + 0.5), RESIZE_SHORT_SIDE)
    else:
        target = (RESIZE_SHORT_SIDE, int(RESIZE_SHORT_SIDE / width * height + 0.5))
    resized = cv2.resize(bgr, target, interpolation=cv2.INTER_LINEAR)
    # torchvision CenterCrop: offsets use Python's round(), i.e. round-half-to-even (58.5 -> 58).
    resized_height, resized_width = resized.shape[:2]
    top = int(round((resized_height - CROP_SIZE) / 2.0))
    left = int(round((resized_width - CROP_SIZE) / 2.0))
    crop = resized[top:top + CROP_SIZE, left:left + CROP_SIZE]
    # ToBGRTensor: HWC -> CHW as float, channel order stays BGR.
    return np.ascontiguousarray(crop.transpose(2, 0, 1)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Layers, NCHW float64
# ---------------------------------------------------------------------------------------------

def shifted_windows(x, kernel, stride, pad, pad_value):
    """Yields (ky, kx, view) for each kernel tap: the input samples that tap sees at every output pixel."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=pad_value)
    out_h = (h + 2 * pad - kernel) // stride + 1
    out_w = (w + 2 * pad - kernel) // stride + 1
    for ky in range(kernel):
        for kx in range(kernel):
            yield ky, kx, padded[:, :, ky:ky + stride * (out_h - 1) + 1:stride, kx:kx + stride * (out_w - 1) + 1:stride]


def conv3x3_dense(x, weight, stride):
    """Ordinary 3x3 convolution, padding 1, no bias, as im2col + matmul."""
    columns = np.stack([view for _, _, view in shifted_windows(x, 3, stride, 1, 0.0)], axis=2)  # N,C,9,H,W
    n, c, taps, h, w = columns.shape
    out = weight.reshape(weight.shape[0], c * taps) @ columns.reshape(n, c * taps, h * w)
    return out.reshape(n, weight.shape[0], h, w)


def conv3x3_depthwise(x, weight, stride):
    """Depthwise 3x3 convolution (one filter per channel), padding 1, no bias."""
    out = None
    for ky, kx, view in shifted_windows(x, 3, stride, 1, 0.0):
        term = view * weight[:, 0, ky, kx][None, :, None, None]
        out = term if out is None else out + term
    return out


def conv1x1_grouped(x, weight, groups):
    """1x1 convolution with `groups` groups: input group i only feeds output group i."""
    n, c, h, w = x.shape
    out_channels = weight.shape[0]
    grouped_weight = weight.reshape(groups, out_channels // groups, c // groups)
    grouped_input = x.reshape(n, groups, c // groups, h * w)
    return (grouped_weight @ grouped_input).reshape(n, out_channels, h, w)


def batch_norm(x, bn):
    scale = bn["weight"] / np.sqrt(bn["running_var"] + BN_EPS)
    return (x - bn["running_mean"][None, :, None, None]) * scale[None, :, None, None] + bn["bias"][None, :, None, None]


def relu(x):
    return np.maximum(x, 0.0)


def max_pool3x3_s2(x):
    return np.max(np.stack([view for _, _, view in shifted_windows(x, 3, 2, 1, -np.inf)]), axis=0)


def avg_pool3x3_s2(x):
    # count_include_pad (PyTorch's default): the zero padding counts, so always divide by 9.
    return sum(view for _, _, view in shifted_windows(x, 3, 2, 1, 0.0)) / 9.0


def channel_shuffle(x, groups):
    # Megvii's variant: view channels as (C/g, g), transpose to (g, C/g). Output channel j*(C/g)+i comes
    # from input channel i*g+j. (The paper's description reshapes to (g, C/g) instead; that is different.)
    n, c, h, w = x.shape
    return x.reshape(n, c // groups, groups, h, w).transpose(0, 2, 1, 3, 4).reshape(n, c, h, w)


# ---------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------

class ShuffleNetV1Reference:
    """Megvii's ShuffleNet v1 with its weights as float64 arrays, described by the checkpoint's shapes."""

    def __init__(self, state, path, groups=None):
        self.path = path
        self.state = {key: np.asarray(value, dtype=np.float64) for key, value in state.items()
                      if not key.endswith("num_batches_tracked")}
        self.groups = self._infer_groups(groups)
        self.units = self._plan_units()
        self.classifier = self._tensor("classifier.0.weight")
        if "classifier.0.bias" in self.state:
            raise ReferenceInputError(path, "classifier has a bias; Megvii's ShuffleNet v1 classifier has none")
        if self.classifier.shape[1] != self.units[-1]["out_channels"]:
            raise ReferenceInputError(path, f"classifier expects {self.classifier.shape[1]} features, "
                                       f"last stage gives {self.units[-1]['out_channels']}")

    def _tensor(self, key):
        if key not in self.state:
            raise ReferenceInputError(self.path, f"missing tensor {key}")
        return self.state[key]

    def _bn(self, prefix):
        return {name: self._tensor(f"{prefix}.{name}") for name in ("weight", "bias", "running_mean", "running_var")}

    def _infer_groups(self, requested):
        # In unit 1 (the first with grouped convolutions on both ends) the pointwise weight is
        # (out, in/groups, 1, 1) and the depthwise weight is (mid, 1, 3, 3).
        mid = self._tensor("features.1.branch_main_1.3.weight").shape[0]
        inferred = mid // self._tensor("features.1.branch_main_2.0.weight").shape[1]
        if requested is not None and requested != inferred:
            raise ReferenceInputError(self.path, f"--groups {requested} but the weights have {inferred} groups")
        return inferred

    def _plan_units(self):
        g = self.groups
        in_channels = self._tensor("first_conv.0.weight").shape[0]
        units = []
        index = 0
        for stage, repeats in enumerate(STAGE_REPEATS):
            for position in range(repeats):
                prefix = f"features.{index}"
                stride = 2 if position == 0 else 1
                first_groups = 1 if (stage == 0 and position == 0) else g
                reduce_w = self._tensor(f"{prefix}.branch_main_1.0.weight")
                depthwise_w = self._tensor(f"{prefix}.branch_main_1.3.weight")
                expand_w = self._tensor(f"{prefix}.branch_main_2.0.weight")
                mid = depthwise_w.shape[0]
                branch_out = expand_w.shape[0]
                expected = {"reduce": (mid, in_channels // first_groups, 1, 1), "depthwise": (mid, 1, 3, 3),
                            "expand": (branch_out, mid // g, 1, 1)}
                actual = {"reduce": reduce_w.shape, "depthwise": depthwise_w.shape, "expand": expand_w.shape}
                if actual != expected or in_channels % first_groups or mid % g or branch_out % g:
                    raise ReferenceInputError(self.path, f"{prefix} has shapes {actual}, expected {expected} "
                                                    f"for {in_channels} input channels and {g} groups")
                out_channels = branch_out + in_channels if stride == 2 else branch_out
                if stride == 1 and branch_out != in_channels:
                    raise ReferenceInputError(self.path, f"{prefix} is a stride-1 unit but changes {in_channels} "
                                                    f"channels to {branch_out}")
                units.append({
                    "stride": stride, "first_groups": first_groups, "in_channels": in_channels,
                    "out_channels": out_channels,
                    "reduce": reduce_w, "reduce_bn": self._bn(f"{prefix}.branch_main_1.1"),
                    "depthwise": depthwise_w, "depthwise_bn": self._bn(f"{prefix}.branch_main_1.4"),
                    "expand": expand_w, "expand_bn": self._bn(f"{prefix}.branch_main_2.1"),
                })
                in_channels = out_channels
                index += 1
        if f"features.{index}.branch_main_1.0.weight" in self.state:
            raise ReferenceInputError(self.path, f"more than {index} units; expected stages of {STAGE_REPEATS}")
        return units

    def forward_unit(self, x, unit):
        branch = relu(batch_norm(conv1x1_grouped(x, unit["reduce"], unit["first_groups"]), unit["reduce_bn"]))
        branch = batch_norm(conv3x3_depthwise(branch, unit["depthwise"], unit["stride"]), unit["depthwise_bn"])
        # blocks.py shuffles only when group > 1 (a no-op anyway for one group).
        if self.groups > 1:
            branch = channel_shuffle(branch, self.groups)
        branch = batch_norm(conv1x1_grouped(branch, unit["expand"], self.groups), unit["expand_bn"])
        if unit["stride"] == 1:
            return relu(x + branch)
        return np.concatenate([avg_pool3x3_s2(x), relu(branch)], axis=1)

    def forward(self, images):
        """images: (N, 3, 224, 224) BGR 0..255. Returns float64 logits (N, 1000)."""
        return self.pooled_features(images) @ self.classifier.T

    def pooled_features(self, images):
        """images: (N, 3, 224, 224) BGR 0..255. Returns the globally pooled float64 features (N, C4): the
        classifier's input, what `shufflenet embed` writes."""
        x = images.astype(np.float64)
        x = relu(batch_norm(conv3x3_dense(x, self._tensor("first_conv.0.weight"), 2), self._bn("first_conv.1")))
        x = max_pool3x3_s2(x)
        for unit in self.units:
            x = self.forward_unit(x, unit)
        if x.shape[2:] != (7, 7):
            raise ReferenceInputError(self.path, f"final feature map is {x.shape[2:]}, Megvii's AvgPool2d(7) expects 7x7")
        return x.mean(axis=(2, 3))


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def expand_inputs(arguments):
    paths = []
    for argument in arguments:
        if os.path.isdir(argument):
            names = sorted(n for n in os.listdir(argument) if n.lower().endswith(IMAGE_EXTENSIONS))
            paths.extend(os.path.join(argument, n) for n in names)
        elif os.path.isfile(argument):
            paths.append(argument)
        else:
            raise ReferenceInputError(argument, "no such image file or directory")
    if not paths:
        raise ReferenceInputError(", ".join(arguments), "no images found")
    return paths


def read_class_wnids(path):
    """wnid -> class index from an `index<TAB>wnid<TAB>name` file (Weights/imagenet-classes.tsv)."""
    wnids = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 3:
                wnids[fields[1]] = int(fields[0])
    return wnids


def report_accuracy(results, wnid_to_index):
    """Prints top-1 / top-5 over images whose file name starts with a known wnid."""
    top1 = top5 = counted = 0
    for result in results:
        wnid = os.path.basename(result["path"]).split("_", 1)[0]
        if wnid not in wnid_to_index:
            continue
        target = wnid_to_index[wnid]
        counted += 1
        top1 += result["top5"][0] == target
        top5 += target in result["top5"]
    if counted:
        print(f"accuracy on {counted} labelled images: top-1 {top1}/{counted} = {100 * top1 / counted:.1f}%, "
              f"top-5 {top5}/{counted} = {100 * top5 / counted:.1f}%")


def parse_arguments(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="Megvii legacy torch.save file (*.pth.tar)")
    parser.add_argument("--output", required=True, help="JSON file to write")
    parser.add_argument("--groups", type=int, help="expected group count; inferred from the weights if omitted")
    parser.add_argument("--dump-input", metavar="DIR", help="also write each preprocessed tensor as DIR/<name>.npy")
    parser.add_argument("--features", action="store_true",
                        help="also write each image's pooled features (the classifier's input) as \"features\"")
    parser.add_argument("--decimals", type=int, help="round logits to this many decimals in the JSON")
    parser.add_argument("--classes", default=os.path.join(here, "..", "Weights", "imagenet-classes.tsv"),
                        help="index/wnid/name TSV used to score images named <wnid>_*.JPEG")
    parser.add_argument("images", nargs="+", help="image files or directories of images")
    return parser.parse_args(argv)


def run(args):
    model = ShuffleNetV1Reference(load_state_dict(args.checkpoint), args.checkpoint, args.groups)
    paths = expand_inputs(args.images)
    if args.dump_input:
        os.makedirs(args.dump_input, exist_ok=True)
    results = []
    for start in range(0, len(paths), BATCH_SIZE):
        batch_paths = paths[start:start + BATCH_SIZE]
        inputs = np.stack([preprocess(p) for p in batch_paths])
        if args.dump_input:
            for p, tensor in zip(batch_paths, inputs):
                np.save(os.path.join(args.dump_input, os.path.splitext(os.path.basename(p))[0] + ".npy"), tensor)
        pooled = model.pooled_features(inputs)
        for p, features, logits in zip(batch_paths, pooled, pooled @ model.classifier.T):
            top5 = [int(i) for i in np.argsort(-logits, kind="stable")[:5]]
            values = np.round(logits, args.decimals) if args.decimals is not None else logits
            result = {"path": p, "logits": [float(v) for v in values], "top5": top5}
            if args.features:
                result["features"] = [float(v) for v in features]
            results.append(result)
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump({"checkpoint": args.checkpoint, "groups": model.groups, "images": results}, f)
    print(f"wrote {len(results)} results for groups={model.groups} to {args.output}")
    if os.path.isfile(args.classes):
        report_accuracy(results, read_class_wnids(args.classes))


def main(argv):
    args = parse_arguments(argv)
    try:
        run(args)
    except (OSError, ReferenceInputError, CheckpointFormatError) as error:
        print(f"reference_forward: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
