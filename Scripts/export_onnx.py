"""Exports a shufflenet weights file (safetensors, Weights/README.md) to an ONNX graph of ShuffleNet v1.

Makes OUT.onnx (opset 17, one input `input` [batch, 3, 224, 224] float32, one output `logits` [batch, classes])
so that ONNX Runtime and OpenVINO can run exactly the network and weights that `shufflenet` runs:
    .venv/bin/python Scripts/export_onnx.py WEIGHTS.safetensors OUT.onnx [--batch N] [--keep-batchnorm] [--check]

* BatchNorm is FOLDED into the convolutions by default (in float64, then stored as float32: Conv weight
  w * gamma / sqrt(var + eps) and bias beta - mean * gamma / sqrt(var + eps)), the same arithmetic the shufflenet
  engine does at load, so that all runtimes time the same graph. --keep-batchnorm emits BatchNormalization
  nodes instead (useful to check the fold itself).
* Channel shuffle is Reshape [N, a, b, H*W] -> Transpose (0, 2, 1, 3) -> Reshape [N, C, H, W], with
  (a, b) = (C/g, g) for the metadata's `megvii` convention and (g, C/g) for `paper`. Omitted when g = 1.
* Pools: MaxPool 3x3 s2 p1 after the stem; AveragePool 3x3 s2 p1 count_include_pad=1 on the shortcut of
  stride-2 units; GlobalAveragePool, Flatten and Gemm (transB=1, bias only if `classifier_bias` is true) at the end.
--check runs the exported graph with ONNX Runtime on a random 0..255 input and compares it with the independent
float64 NumPy reference of Scripts/reference_forward.py (BatchNorm unfolded; `megvii` convention only).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_numpy import SafetensorsFormatError, load  # noqa: E402

OPSET = 17
IR_VERSION = 8  # The IR version that goes with opset 17; older runtimes refuse newer IR versions.
STAGE_REPEATS = (4, 8, 4)  # Units per stage; the first unit of each stage has stride 2.
INPUT_SIZE = 224
CHECK_TOLERANCE = 1e-4  # Max abs difference relative to the largest |logit| that --check accepts.


class WeightsFileError(Exception):
    """The weights file does not describe a ShuffleNet v1 we can export; the message names the file and the problem."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")


# ---------------------------------------------------------------------------------------------
# Reading the weights file: metadata and the exact set of tensor names and shapes
# ---------------------------------------------------------------------------------------------

class NetworkWeights:
    """The weights and the shape of the network they describe, checked against Weights/README.md."""

    def __init__(self, path):
        self.path = path
        self.tensors, metadata = load(path)
        self.metadata = metadata
        if metadata.get("format") != "shufflenet-v1" or metadata.get("format_version") != "1":
            raise WeightsFileError(path, f"format {metadata.get('format')!r} version "
                                         f"{metadata.get('format_version')!r}, expected shufflenet-v1 version 1")
        self.groups = self._integer("groups")
        self.stem = self._integer("stem_channels")
        self.stages = [self._integer_in(item, "stage_channels") for item in self._field("stage_channels").split(",")]
        self.num_classes = self._integer("num_classes")
        self.epsilon = self._float("batchnorm_epsilon")
        self.shuffle = self._field("channel_shuffle")
        self.classifier_bias = self._field("classifier_bias") == "true"
        if self.shuffle not in ("megvii", "paper"):
            raise WeightsFileError(path, f"channel_shuffle {self.shuffle!r}, expected megvii or paper")
        if len(self.stages) != len(STAGE_REPEATS):
            raise WeightsFileError(path, f"stage_channels has {len(self.stages)} entries, "
                                         f"expected {len(STAGE_REPEATS)}")
        self.units = self._plan_units()
        self._check_tensor_set()

    def _field(self, key):
        if key not in self.metadata:
            raise WeightsFileError(self.path, f"metadata has no {key!r}")
        return self.metadata[key]

    def _integer_in(self, text, key):
        try:
            value = int(text)
        except ValueError:
            raise WeightsFileError(self.path, f"metadata {key} {text!r} is not an integer") from None
        if value < 1:
            raise WeightsFileError(self.path, f"metadata {key} {text!r} must be positive")
        return value

    def _integer(self, key):
        return self._integer_in(self._field(key), key)

    def _float(self, key):
        try:
            return float(self._field(key))
        except ValueError:
            raise WeightsFileError(self.path, f"metadata {key} {self._field(key)!r} is not a number") from None

    def _plan_units(self):
        """One dict per unit: prefix, stride, in/mid/branch channels, first-conv groups (README's table)."""
        units = []
        in_channels = self.stem
        for stage, (repeats, out_channels) in enumerate(zip(STAGE_REPEATS, self.stages)):
            for position in range(repeats):
                stride = 2 if position == 0 else 1
                unit = {"prefix": f"features.{len(units)}", "stride": stride, "in": in_channels,
                        "mid": out_channels // 4, "branch": out_channels - in_channels if stride == 2 else out_channels,
                        "g1": 1 if stage == 0 and position == 0 else self.groups}
                if (out_channels % 4 or unit["branch"] < 1 or unit["mid"] % self.groups
                        or unit["branch"] % self.groups or in_channels % unit["g1"]):
                    raise WeightsFileError(self.path, f"{unit['prefix']}: {in_channels} -> {out_channels} channels "
                                                      f"cannot be split into {self.groups} groups")
                units.append(unit)
                in_channels = out_channels
        return units

    def expected_shapes(self):
        shapes = {"first_conv.0.weight": (self.stem, 3, 3, 3)}
        shapes.update(_batchnorm_shapes("first_conv.1", self.stem))
        for u in self.units:
            p = u["prefix"]
            shapes[f"{p}.branch_main_1.0.weight"] = (u["mid"], u["in"] // u["g1"], 1, 1)
            shapes.update(_batchnorm_shapes(f"{p}.branch_main_1.1", u["mid"]))
            shapes[f"{p}.branch_main_1.3.weight"] = (u["mid"], 1, 3, 3)
            shapes.update(_batchnorm_shapes(f"{p}.branch_main_1.4", u["mid"]))
            shapes[f"{p}.branch_main_2.0.weight"] = (u["branch"], u["mid"] // self.groups, 1, 1)
            shapes.update(_batchnorm_shapes(f"{p}.branch_main_2.1", u["branch"]))
        shapes["classifier.0.weight"] = (self.num_classes, self.stages[-1])
        if self.classifier_bias:
            shapes["classifier.0.bias"] = (self.num_classes,)
        return shapes

    def _check_tensor_set(self):
        expected = self.expected_shapes()
        missing = sorted(set(expected) - set(self.tensors))
        extra = sorted(set(self.tensors) - set(expected))
        if missing or extra:
            raise WeightsFileError(self.path, f"tensor names do not match the metadata: missing {missing[:3]}, "
                                              f"unexpected {extra[:3]}")
        for name, shape in expected.items():
            if tuple(self.tensors[name].shape) != shape:
                raise WeightsFileError(self.path, f"tensor {name} has shape {list(self.tensors[name].shape)}, "
                                                  f"expected {list(shape)}")
            if not np.all(np.isfinite(self.tensors[name])):
                raise WeightsFileError(self.path, f"tensor {name} has non-finite values")


def _batchnorm_shapes(prefix, channels):
    return {f"{prefix}.{field}": (channels,) for field in ("weight", "bias", "running_mean", "running_var")}


# ---------------------------------------------------------------------------------------------
# Building the graph
# ---------------------------------------------------------------------------------------------

class GraphBuilder:
    """Collects nodes and initializers; every helper returns the name of the tensor it produced."""

    def __init__(self, weights, fold_batchnorm):
        self.weights = weights
        self.fold_batchnorm = fold_batchnorm
        self.nodes = []
        self.initializers = []
        self.counter = 0

    def _name(self, hint):
        self.counter += 1
        return f"{hint}_{self.counter}"

    def constant(self, hint, array):
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(self, op, inputs, hint, output=None, **attributes):
        output = output or self._name(hint)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def conv_bn(self, x, conv_prefix, bn_prefix, stride, groups):
        """Conv (square kernel, padding k//2, no bias in the file) followed by its BatchNorm."""
        weight = self.weights.tensors[f"{conv_prefix}.weight"].astype(np.float64)
        bn = {f: self.weights.tensors[f"{bn_prefix}.{f}"].astype(np.float64)
              for f in ("weight", "bias", "running_mean", "running_var")}
        kernel = weight.shape[2]
        pad = kernel // 2
        conv_attributes = {"kernel_shape": [kernel, kernel], "strides": [stride, stride],
                           "pads": [pad, pad, pad, pad], "group": groups}
        if self.fold_batchnorm:
            # Why float64: the fold multiplies and subtracts nearly equal numbers (bias - mean * scale).
            scale = bn["weight"] / np.sqrt(bn["running_var"] + self.weights.epsilon)
            folded_weight = (weight * scale[:, None, None, None]).astype(np.float32)
            folded_bias = (bn["bias"] - bn["running_mean"] * scale).astype(np.float32)
            inputs = [x, self.constant(f"{conv_prefix}.w", folded_weight),
                      self.constant(f"{conv_prefix}.b", folded_bias)]
            return self.node("Conv", inputs, conv_prefix, **conv_attributes)
        y = self.node("Conv", [x, self.constant(f"{conv_prefix}.w", weight.astype(np.float32))], conv_prefix,
                      **conv_attributes)
        bn_inputs = [y] + [self.constant(f"{bn_prefix}.{f}", bn[f].astype(np.float32))
                           for f in ("weight", "bias", "running_mean", "running_var")]
        return self.node("BatchNormalization", bn_inputs, bn_prefix, epsilon=self.weights.epsilon)

    def relu(self, x):
        return self.node("Relu", [x], "relu")

    def pool3x3_s2(self, op, x, **attributes):
        return self.node(op, [x], op.lower(), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], **attributes)

    def channel_shuffle(self, x, channels, size):
        g = self.weights.groups
        rows, columns = (channels // g, g) if self.weights.shuffle == "megvii" else (g, channels // g)
        # 0 in a Reshape shape copies that input dimension, so the batch size is not baked into the constants.
        split_shape = self.constant("shuffle_split", np.array([0, rows, columns, -1], np.int64))
        split = self.node("Reshape", [x, split_shape], "shuffle_split")
        swapped = self.node("Transpose", [split], "shuffle_transpose", perm=[0, 2, 1, 3])
        merge_shape = self.constant("shuffle_merge", np.array([0, channels, size, size], np.int64))
        return self.node("Reshape", [swapped, merge_shape], "shuffle_merge")

    def unit(self, x, unit, size):
        """One ShuffleNet unit on an input of `size` x `size`; returns (output, output size)."""
        p = unit["prefix"]
        out_size = size // unit["stride"]
        branch = self.relu(self.conv_bn(x, f"{p}.branch_main_1.0", f"{p}.branch_main_1.1", 1, unit["g1"]))
        branch = self.conv_bn(branch, f"{p}.branch_main_1.3", f"{p}.branch_main_1.4", unit["stride"], unit["mid"])
        if self.weights.groups > 1:  # Megvii's blocks.py skips the shuffle for one group (it would be a no-op).
            branch = self.channel_shuffle(branch, unit["mid"], out_size)
        branch = self.conv_bn(branch, f"{p}.branch_main_2.0", f"{p}.branch_main_2.1", 1, self.weights.groups)
        if unit["stride"] == 1:
            return self.relu(self.node("Add", [x, branch], f"{p}.add")), out_size
        shortcut = self.pool3x3_s2("AveragePool", x, count_include_pad=1)
        return self.node("Concat", [shortcut, self.relu(branch)], f"{p}.concat", axis=1), out_size

    def network(self, x):
        size = INPUT_SIZE // 2
        x = self.relu(self.conv_bn(x, "first_conv.0", "first_conv.1", 2, 1))
        x = self.pool3x3_s2("MaxPool", x)
        size //= 2
        for unit in self.weights.units:
            x, size = self.unit(x, unit, size)
        x = self.node("Flatten", [self.node("GlobalAveragePool", [x], "global_pool")], "flatten", axis=1)
        gemm_inputs = [x, self.constant("classifier.w", self.weights.tensors["classifier.0.weight"])]
        if self.weights.classifier_bias:
            gemm_inputs.append(self.constant("classifier.b", self.weights.tensors["classifier.0.bias"]))
        return self.node("Gemm", gemm_inputs, "classifier", output="logits", transB=1)


def build_model(weights, batch, fold_batchnorm=True):
    """The ONNX model of `weights` (a NetworkWeights) for a fixed batch size."""
    builder = GraphBuilder(weights, fold_batchnorm)
    builder.network("input")
    graph = helper.make_graph(
        builder.nodes, "shufflenet_v1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, weights.num_classes])],
        builder.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="shufflenet Scripts/export_onnx.py")
    model.ir_version = IR_VERSION
    # Carried over so that an .onnx file says which weights it came from.
    carried = ("scale", "groups", "channel_shuffle", "source")
    helper.set_model_props(model, {key: weights.metadata[key] for key in carried if key in weights.metadata})
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------------------------------------
# --check: ONNX Runtime against the independent NumPy reference
# ---------------------------------------------------------------------------------------------

def check_against_reference(weights, model_path, batch, seed=0):
    """Returns max |ORT - reference| / max |reference| on a random 0..255 input (raises if over tolerance)."""
    import onnxruntime
    from reference_forward import ShuffleNetV1Reference

    if weights.shuffle != "megvii":
        raise WeightsFileError(weights.path, "--check needs the megvii channel shuffle "
                                             "(the reference implements only that)")
    images = np.random.default_rng(seed).uniform(0, 255, (batch, 3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    reference = ShuffleNetV1Reference(weights.tensors, weights.path, weights.groups).forward(images)
    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": images})
    relative = float(np.max(np.abs(logits - reference)) / np.max(np.abs(reference)))
    if not relative < CHECK_TOLERANCE:
        raise WeightsFileError(model_path, f"ONNX Runtime differs from the NumPy reference by {relative:.3g} "
                                           f"of the largest logit (tolerance {CHECK_TOLERANCE})")
    return relative


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", help="shufflenet safetensors weights file")
    parser.add_argument("output", help="ONNX file to write")
    parser.add_argument("--batch", type=int, default=1, help="fixed batch size of the graph's input (default 1)")
    parser.add_argument("--keep-batchnorm", action="store_true",
                        help="emit BatchNormalization nodes instead of folding them")
    parser.add_argument("--check", action="store_true", help="compare ONNX Runtime with the NumPy reference")
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    try:
        weights = NetworkWeights(args.weights)
        onnx.save(build_model(weights, args.batch, fold_batchnorm=not args.keep_batchnorm), args.output)
        print(f"wrote {args.output}: ShuffleNet v1 g{weights.groups}, stages {weights.stages}, batch {args.batch}, "
              f"BatchNorm {'kept' if args.keep_batchnorm else 'folded'}")
        if args.check:
            relative = check_against_reference(weights, args.output, args.batch)
            print(f"check: max |ONNX Runtime - NumPy reference| = {relative:.3g} of the largest logit")
    except (OSError, SafetensorsFormatError, WeightsFileError, onnx.checker.ValidationError) as error:
        print(f"export_onnx: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
