"""Times `shufflenet bench` against ONNX Runtime and OpenVINO on the same weights and input, side by side.

Prints (and with --output writes) a markdown table: config, threads, batch, median ms per inference for ONNX
Runtime, OpenVINO and shufflenet, shufflenet / best peer, images/s, and how far the outputs are apart; with the
date, CPU, load, versions and the method. Normally run through Scripts/compare-runtimes, which builds shufflenet
and sets up the venv:
    Scripts/compare-runtimes [--quick] [--configs 0.5x-g3,1x-g3] [--threads 1,2] [--batches 1,32]
                             [--precision fp32|int8] [--wait-for-quiet SECONDS] [--output FILE]
or directly:
    .venv/bin/python Scripts/compare_runtimes.py --shufflenet .build/release/shufflenet [options]

Method (why it is fair):
* Same weights: 0.5x-g3 uses Megvii's real checkpoint (converted by `shufflenet convert`) when the shared data is
  there; the other configs use `shufflenet bench --export-weights` random weights. Scripts/export_onnx.py turns the
  file into ONNX (BatchNorm folded, as shufflenet folds it at load), with the batch size fixed in the graph.
* Same input: one seeded random 0..255 float32 batch, fed to all three (shufflenet via `bench --input`).
* Interleaved: each cell (config, threads, batch) runs R rounds; a round is one block per runtime in rotating
  order; a block is W warm-up + N timed inferences (same W and N for all three, N chosen so that a block lasts
  about --block-seconds). A block's value is its median; the table shows the median over the rounds.
* Only inference is timed: ORT session.run and OpenVINO InferRequest.infer (input tensor bound once) around
  time.perf_counter_ns; shufflenet's own in-process p50 from `bench --format json`, so neither its process
  start nor its weight loading counts.
* Other processes disturb timings (a busy neighbour halves 2-thread results on 2 cores): each cell reports the
  cores other processes used meanwhile (/proc/stat), and --wait-for-quiet waits for calm before each cell.
* Outputs are checked on every block: max |x - ORT| / max |ORT logit| for OpenVINO and for shufflenet's
  `--save-logits` must stay under 1e-4 (OpenVINO's bf16 default would not pass); otherwise the script fails.

--precision int8 (the peers' int8, issue 10): from the same fp32 ONNX model, onnxruntime.quantization's
quantize_static makes a QDQ model (QuantFormat.QDQ, per-channel int8 weights, uint8 activations, MinMax
calibration, no reduce_range) calibrated on the photos of --calibration (default: the 50 shared ImageNet photos),
preprocessed as `classify` does (Scripts/reference_forward.py's preprocess: BGR 0..255, short side 256 with
OpenCV INTER_LINEAR, center crop 224); random-weight configs are calibrated on the same photos. It is quantized
once at batch 1 and re-batched, so every batch size runs the same scales; models are cached under
.build/compare-runtimes/ (keyed by the fp32 model and the photos). ORT (ORT_ENABLE_ALL) and OpenVINO (CPU plugin;
f32 forced for whatever stays in float, as in fp32 mode) run it. The shufflenet column is `bench --weights INT8`
on the int8 file `shufflenet quantize --calibration` makes from the same fp32 weights and the same photos (its
default method), when the binary has int8 (else `n/a`); shufflenet fp32 is timed in the same rounds for scale. Outputs:
OpenVINO int8 and shufflenet int8 are compared with ORT int8 (reported, not enforced: int8 engines round
differently), shufflenet fp32 with ORT on the fp32 model (enforced as above); and before timing, the report gives
ORT int8's top-1 agreement with fp32 on the calibration photos as a sanity check of the quantized model.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime
import openvino
import openvino.properties as ov_properties
import openvino.properties.hint as ov_hints

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_onnx import NetworkWeights, WeightsFileError, build_model  # noqa: E402
from safetensors_numpy import SafetensorsFormatError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_CONFIGS = ("0.5x-g3", "1x-g3", "1x-g8", "2x-g3")
REAL_CHECKPOINTS = {"0.5x-g3": "megvii_ShuffleNetV1_0.5x_g3.pth.tar"}  # Configs with a published checkpoint.
TOLERANCE = 1e-4  # Max |difference| relative to the largest |logit| (float32 kernels differ by ~1e-6).
INPUT_SEED = 2024
PAUSE_BETWEEN_BLOCKS = 0.1  # Seconds: lets the previous runtime's idle worker threads stop spinning.
RUNTIMES = ("ORT", "OpenVINO", "shufflenet")  # fp32 mode's columns.
INT8_RUNTIMES = ("ORT", "OpenVINO", "shufflenet", "shufflenet fp32")  # --precision int8's columns.
FP32_PEERS = ("ORT fp32", "OpenVINO fp32")  # Added to the int8 rounds by --fp32-peers.
QUANTIZATION_VERSION = "qdq-perchannel-s8w-u8a-minmax-v1"  # Part of the cache key: bump when the recipe changes.


class ComparisonError(Exception):
    """A step of the comparison failed; the message names the file or command and the problem."""

    def __init__(self, what, problem):
        super().__init__(f"{what}: {problem}")


# ---------------------------------------------------------------------------------------------
# Preparing weights, ONNX files and inputs
# ---------------------------------------------------------------------------------------------

def parse_config(name):
    """`0.5x-g3` -> (0.5, 3)."""
    try:
        scale, groups = name.split("-")
        if not (scale.endswith("x") and groups.startswith("g")):
            raise ValueError
        return float(scale[:-1]), int(groups[1:])
    except ValueError:
        raise argparse.ArgumentTypeError(f"config {name!r}: expected SCALEx-gGROUPS, e.g. 1x-g3") from None


def run_command(command):
    """Runs a command, returns its stdout; a failure raises with the command and its stderr."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise ComparisonError(" ".join(command), f"exit status {result.returncode}: {result.stderr.strip()[-500:]}")
    return result.stdout


def prepare_weights(shufflenet, config, shared_data, workdir):
    """Returns (weights file, description): the real checkpoint converted when present, else random weights."""
    path = os.path.join(workdir, f"{config}.safetensors")
    checkpoint = os.path.join(shared_data, "weights", REAL_CHECKPOINTS.get(config, "")) if shared_data else ""
    if config in REAL_CHECKPOINTS and os.path.isfile(checkpoint):
        run_command([shufflenet, "convert", checkpoint, "-o", path])
        return path, "Megvii"
    scale, groups = parse_config(config)
    run_command([shufflenet, "bench", "--scale", str(scale), "--groups", str(groups), "--warmup", "0",
                 "--iterations", "1", "--export-weights", path])
    return path, "random"


def write_input(path, batch):
    """The shared input: seeded uniform 0..255 (the range of Megvii's BGR preprocessing), raw float32 LE."""
    images = np.random.default_rng(INPUT_SEED).uniform(0, 255, (batch, 3, 224, 224)).astype("<f4")
    images.tofile(path)
    return images


def relative_difference(logits, reference):
    return float(np.max(np.abs(logits.astype(np.float64) - reference)) / np.max(np.abs(reference)))


# ---------------------------------------------------------------------------------------------
# --precision int8: the peers' QDQ int8 model, built from the same fp32 ONNX model
# ---------------------------------------------------------------------------------------------

def calibration_images(folder):
    """The calibration photos preprocessed as `classify` does: (paths, float32 N x 3 x 224 x 224 BGR 0..255)."""
    from reference_forward import IMAGE_EXTENSIONS, ReferenceInputError, preprocess
    try:
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))
    except OSError as error:
        raise ComparisonError(folder, f"cannot list calibration photos ({error})") from error
    if not names:
        raise ComparisonError(folder, "no calibration photos (.jpg, .jpeg, .png)")
    paths = [os.path.join(folder, n) for n in names]
    try:
        return paths, np.stack([preprocess(p) for p in paths])
    except ReferenceInputError as error:
        raise ComparisonError(folder, str(error)) from error


def with_batch(model, batch):
    """The same graph with a fixed batch of `batch` (the shuffle's Reshapes copy the batch dimension)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_value = batch
    del model.graph.value_info[:]  # Intermediate shapes recorded for batch 1; runtimes infer them again.
    onnx.checker.check_model(model)
    return model


def quantize_int8(fp32_batch1_path, output_path, images):
    """onnxruntime.quantization.quantize_static as in issue 10: QDQ, per-channel int8 weights, uint8 activations,
    MinMax ranges over `images` fed one at a time."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    class PhotoReader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter([{"input": image[None]} for image in images])

        def get_next(self):
            return next(self.feeds, None)

    quantize_static(fp32_batch1_path, output_path, PhotoReader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    reduce_range=False, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)


def top1_agreement(fp32_path, int8_path, images):
    """How many of `images` get the same top-1 from ORT on the int8 model as on the fp32 one (batch-1 models)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
                for path in (fp32_path, int8_path)]
    same = 0
    for image in images:
        tops = [int(np.argmax(session.run(None, {"input": image[None]})[0])) for session in sessions]
        same += tops[0] == tops[1]
    return same


def prepare_int8_model(config, weights, calibration_folder, workdir, log):
    """Returns (int8 batch-1 ModelProto, sanity note): cached in .build/compare-runtimes/ by a hash of the fp32
    model, the photos and the recipe, so reruns skip the calibration (about 10 s per config)."""
    import hashlib
    fp32_path = os.path.join(workdir, f"{config}-b1.onnx")
    onnx.save(build_model(weights, 1), fp32_path)
    paths, images = calibration_images(calibration_folder)
    key = hashlib.sha256(QUANTIZATION_VERSION.encode())
    with open(fp32_path, "rb") as f:
        key.update(f.read())
    for path in paths:
        key.update(os.path.basename(path).encode())
        key.update(str(os.path.getsize(path)).encode())
    key.update(images.tobytes())
    cache = os.path.join(ROOT, ".build", "compare-runtimes")
    os.makedirs(cache, exist_ok=True)
    int8_path = os.path.join(cache, f"{config}-int8-qdq-{key.hexdigest()[:16]}.onnx")
    note_path = int8_path[:-len(".onnx")] + ".txt"
    if not (os.path.isfile(int8_path) and os.path.isfile(note_path)):
        log(f"  {config}: quantizing (QDQ int8) on {len(paths)} photos from {calibration_folder}")
        partial = os.path.join(workdir, f"{config}-int8.onnx")
        quantize_int8(fp32_path, partial, images)
        same = top1_agreement(fp32_path, partial, images)
        note = (f"{config}: int8 QDQ model calibrated on {len(paths)} photos; ORT int8 top-1 = ORT fp32 top-1 on "
                f"{same}/{len(paths)} of them")
        shutil.move(partial, int8_path)
        with open(note_path, "w", encoding="utf-8") as f:
            f.write(note)
    with open(note_path, encoding="utf-8") as f:
        note = f.read().strip()
    return onnx.load(int8_path), f"{note} (`{os.path.relpath(int8_path, ROOT)}`)"


# ---------------------------------------------------------------------------------------------
# The three runtimes: each `block(warmup, iterations)` returns (median ms, logits of the last run)
# ---------------------------------------------------------------------------------------------

def timed_block(infer, warmup, iterations):
    for _ in range(warmup):
        infer()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        infer()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return statistics.median(samples)


class OnnxRuntimeRunner:
    def __init__(self, model_path, images, threads):
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        self.feed = {"input": images}
        self.logits = None

    def infer(self):
        (self.logits,) = self.session.run(None, self.feed)

    def block(self, warmup, iterations):
        return timed_block(self.infer, warmup, iterations), self.logits


class OpenVinoRunner:
    def __init__(self, core, model_path, images, threads):
        # f32 forced: on CPUs with AVX-512 BF16 / AMX OpenVINO otherwise runs in bf16 (about 1e-2 error).
        # LATENCY: one stream, one request of the whole batch, the same work split as the other two.
        config = {ov_hints.inference_precision: openvino.Type.f32, ov_properties.inference_num_threads: threads,
                  ov_hints.performance_mode: ov_hints.PerformanceMode.LATENCY}
        self.compiled = core.compile_model(core.read_model(model_path), "CPU", config)
        precision = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        if precision != openvino.Type.f32:
            raise ComparisonError(model_path, f"OpenVINO compiled for {precision}, not f32")
        self.request = self.compiled.create_infer_request()
        # Bound once, sharing the NumPy buffer, so that infer() times the network only.
        self.request.set_input_tensor(openvino.Tensor(images, shared_memory=True))

    def block(self, warmup, iterations):
        median = timed_block(self.request.infer, warmup, iterations)
        return median, self.request.get_output_tensor().data.copy()


class ShuffleNetRunner:
    def __init__(self, binary, weights_path, input_path, batch, threads, workdir, precision="fp32"):
        self.command = [binary, "bench", "--weights", weights_path, "--batch", str(batch), "--threads", str(threads),
                        "--input", input_path, "--format", "json"]
        if precision != "fp32":
            self.command += ["--precision", precision]
        self.logits_path = os.path.join(workdir, f"logits-b{batch}-t{threads}-{precision}.f32")
        self.batch = batch

    def block(self, warmup, iterations):
        output = run_command(self.command + ["--warmup", str(warmup), "--iterations", str(iterations),
                                             "--save-logits", self.logits_path])
        try:
            report = json.loads(output)
            median = float(report["latency_ms"]["p50"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise ComparisonError(" ".join(self.command),
                                  f"unexpected JSON report ({error}): {output[:200]}") from error
        logits = np.fromfile(self.logits_path, dtype="<f4")
        if logits.size % self.batch:
            raise ComparisonError(self.logits_path, f"{logits.size} floats is not a whole batch of {self.batch}")
        return median, logits.reshape(self.batch, -1)


# ---------------------------------------------------------------------------------------------
# One cell: interleaved rounds
# ---------------------------------------------------------------------------------------------

def with_megvii_preprocessing(path, output):
    """A copy of a safetensors file whose metadata names Megvii's preprocessing (BGR 0..255, what the peers are fed),
    for random weights, whose files name none, so that `shufflenet quantize` decodes the photos as for Megvii's."""
    with open(path, "rb") as f:
        data = f.read()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    header.setdefault("__metadata__", {}).setdefault("preprocessing", "megvii")
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(output, "wb") as f:
        f.write(len(encoded).to_bytes(8, "little") + encoded + data[8 + length:])
    return output


def quantize_shufflenet(binary, config, weights_path, calibration_folder, workdir, log):
    """shufflenet's own int8 file from the same fp32 weights and photos (`shufflenet quantize`, default method)."""
    output = os.path.join(workdir, f"{config}-int8.safetensors")
    log(f"  {config}: shufflenet quantize on {calibration_folder}")
    source = with_megvii_preprocessing(weights_path, os.path.join(workdir, f"{config}-for-quantize.safetensors"))
    run_command([binary, "quantize", "--weights", source, "--calibration", calibration_folder, "-o", output, "-q"])
    return output


def binary_supports_int8(binary):
    """Whether `shufflenet bench` has --precision (the engine's int8, issue 10)."""
    result = subprocess.run([binary, "bench", "--help"], capture_output=True, text=True)
    return "--precision" in result.stdout


class OtherProcessesMeter:
    """CPU used by OTHER processes while measuring, in cores: the machine's busy time (/proc/stat) minus this
    process's and its finished children's (os.times). Why: load average lags by minutes and counts us too."""

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        own = os.times()
        return busy, own.user + own.system + own.children_user + own.children_system, time.monotonic()

    def cores(self):
        """Average number of cores other processes kept busy since construction, or None if unknown."""
        end = self._sample()
        if self.start is None or end is None or end[2] <= self.start[2]:
            return None
        others = (end[0] - self.start[0]) - (end[1] - self.start[1])
        return max(0.0, others / (end[2] - self.start[2]))


def wait_for_quiet(max_seconds, log, threshold=0.1, sample_seconds=2.0):
    """Waits (at most max_seconds) until other processes use under `threshold` cores over one sample.
    Why: on a shared 2-core machine one busy neighbour halves the 2-thread results."""
    deadline = time.monotonic() + max_seconds
    while True:
        meter = OtherProcessesMeter()
        time.sleep(sample_seconds)
        cores = meter.cores()
        if cores is None or cores < threshold:
            return
        if time.monotonic() >= deadline:
            log(f"    still {cores:.2f} cores busy elsewhere after waiting {max_seconds:g} s: measuring anyway")
            return


def measure_cell(runners, references, settings, log):
    """Returns ({runtime: median ms over rounds}, {runtime: max relative difference to its reference output},
    cores used by other processes meanwhile, a one-line summary of the blocks). `runners` is ordered (the
    rotation); references[name] is the ORT output each runtime is compared with (ORT's own first output in
    fp32 mode; in int8 mode ORT int8's for the int8 runtimes and ORT fp32's for shufflenet fp32)."""
    names = tuple(runners)
    # Calibration: a few ORT runs give the per-inference time from which N is chosen (the same N for all).
    estimate, _ = runners["ORT"].block(1, 3)
    wanted = settings.block_seconds * 1000 / estimate
    iterations = int(min(settings.max_iterations, max(settings.min_iterations, wanted)))
    warmup = max(1, iterations // 5)
    blocks = {name: [] for name in names}
    differences = {name: 0.0 for name in names}
    meter = OtherProcessesMeter()
    for round_index in range(settings.rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            time.sleep(PAUSE_BETWEEN_BLOCKS)
            median, logits = runners[name].block(warmup, iterations)
            reference = references[name]
            if logits.shape != reference.shape:
                raise ComparisonError(name, f"logits of shape {logits.shape}, expected {reference.shape}")
            blocks[name].append(median)
            differences[name] = max(differences[name], relative_difference(logits, reference))
    others = meter.cores()
    summary = (f"{iterations} timed + {warmup} warm-up per block; block medians (ms) in round order: "
               + "; ".join(f"{name} " + " ".join(f"{v:.3f}" for v in blocks[name]) for name in names))
    log(f"    {summary}")
    medians = {name: statistics.median(values) for name, values in blocks.items()}
    return medians, differences, others, summary


def run_comparison(args, log):
    """Returns (rows of the table, notes on the int8 models)."""
    workdir = tempfile.mkdtemp(prefix="compare-runtimes-")
    core = openvino.Core()
    int8 = args.precision == "int8"
    shufflenet_int8 = int8 and binary_supports_int8(args.shufflenet)
    if int8 and not shufflenet_int8:
        log("  this shufflenet has no `bench --precision int8`: its int8 cells will read n/a")
    rows = []
    notes = []
    try:
        for config in args.configs:
            weights_path, weights_kind = prepare_weights(args.shufflenet, config, args.shared_data, workdir)
            weights = NetworkWeights(weights_path)
            if int8:
                int8_batch1, note = prepare_int8_model(config, weights, args.calibration, workdir, log)
                notes.append(note)
                if shufflenet_int8:
                    shufflenet_int8_path = quantize_shufflenet(args.shufflenet, config, weights_path, args.calibration,
                                                               workdir, log)
            for batch in args.batches:
                model_path = os.path.join(workdir, f"{config}-b{batch}.onnx")
                onnx.save(build_model(weights, batch), model_path)
                int8_path = os.path.join(workdir, f"{config}-b{batch}-int8.onnx")
                if int8:
                    onnx.save(with_batch(int8_batch1, batch), int8_path)
                input_path = os.path.join(workdir, f"input-b{batch}.f32")
                images = write_input(input_path, batch)
                references = None
                for threads in args.threads:
                    log(f"  {config} ({weights_kind} weights), batch {batch}, {threads} thread(s), {args.precision}")
                    peer_model = int8_path if int8 else model_path
                    runners = {"ORT": OnnxRuntimeRunner(peer_model, images, threads),
                               "OpenVINO": OpenVinoRunner(core, peer_model, images, threads)}
                    if not int8 or shufflenet_int8:
                        runners["shufflenet"] = ShuffleNetRunner(args.shufflenet, shufflenet_int8_path if int8 else weights_path,
                                                                 input_path, batch, threads, workdir, args.precision)
                    if int8:
                        runners["shufflenet fp32"] = ShuffleNetRunner(args.shufflenet, weights_path, input_path,
                                                                      batch, threads, workdir)
                    if int8 and args.fp32_peers:
                        runners["ORT fp32"] = OnnxRuntimeRunner(model_path, images, threads)
                        runners["OpenVINO fp32"] = OpenVinoRunner(core, model_path, images, threads)
                    if references is None:
                        # ORT with one fixed input is the yardstick for this (config, batch): the int8 runtimes
                        # are compared with ORT int8, fp32 ones with ORT fp32.
                        runners["ORT"].infer()
                        own = runners["ORT"].logits.astype(np.float64)
                        fp32 = own
                        if int8:
                            fp32_ort = OnnxRuntimeRunner(model_path, images, 1)
                            fp32_ort.infer()
                            fp32 = fp32_ort.logits.astype(np.float64)
                            del fp32_ort
                        references = {name: fp32 if name in ("shufflenet fp32",) + FP32_PEERS else own
                                      for name in INT8_RUNTIMES + FP32_PEERS}
                    if args.wait_for_quiet > 0:
                        wait_for_quiet(args.wait_for_quiet, log)
                    medians, differences, others, summary = measure_cell(runners, references, args, log)
                    rows.append({"config": config, "weights": weights_kind, "threads": threads, "batch": batch,
                                 "ms": medians, "differences": differences, "others": others, "blocks": summary})
                    del runners  # Frees the sessions' thread pools before the next cell.
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows, notes


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def cpu_model():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def source_revision():
    """The git commit of the tree shufflenet was built from, marked `+local changes` when the tree is dirty."""
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"
    return (commit or "unknown") + (" +local changes" if dirty else "")


def other_load(cores):
    return "?" if cores is None else f"{cores:.2f} cores"


def worst_difference(row):
    """The largest difference that the tolerance applies to: every runtime in fp32 mode; in int8 mode only
    shufflenet fp32's (int8 engines legitimately round differently: theirs are reported, not enforced)."""
    if "shufflenet fp32" in row["differences"]:
        return max(v for name, v in row["differences"].items() if name in ("shufflenet fp32",) + FP32_PEERS)
    return max(row["differences"].values())


def format_table(rows):
    lines = ["| config | weights | threads | batch | ORT ms | OpenVINO ms | shufflenet ms | shufflenet / best peer "
             "| images/s ORT / OpenVINO / shufflenet | max rel. diff to ORT: OpenVINO / shufflenet | other CPU load |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        ms = row["ms"]
        ratio = ms["shufflenet"] / min(ms["ORT"], ms["OpenVINO"])
        rates = " / ".join(f"{1000 * row['batch'] / ms[name]:.0f}" for name in RUNTIMES) if row["batch"] > 1 else ""
        differences = " / ".join(f"{row['differences'][name]:.1e}" for name in ("OpenVINO", "shufflenet"))
        flag = "" if worst_difference(row) < TOLERANCE else " **FAIL**"
        lines.append(f"| {row['config']} | {row['weights']} | {row['threads']} | {row['batch']} | {ms['ORT']:.3f} "
                     f"| {ms['OpenVINO']:.3f} | {ms['shufflenet']:.3f} | {ratio:.2f} | {rates} "
                     f"| {differences}{flag} | {other_load(row['others'])} |")
    return "\n".join(lines)


NOT_AVAILABLE = "n/a (no int8 in this build)"


def format_int8_table(rows):
    """--precision int8: the peers' int8 beside shufflenet int8 (n/a until the engine has it) and fp32."""
    lines = ["| config | weights | threads | batch | ORT int8 ms | OpenVINO int8 ms | shufflenet int8 ms "
             "| shufflenet int8 / best peer int8 | shufflenet fp32 ms | shufflenet int8 / fp32 "
             "| images/s ORT / OpenVINO / shufflenet int8 / shufflenet fp32 "
             "| max rel. diff to ORT int8: OpenVINO / shufflenet int8 | shufflenet fp32 vs ORT fp32 "
             "| other CPU load |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    peers = any(FP32_PEERS[0] in row["ms"] for row in rows)
    if peers:
        lines[0] = lines[0].replace("| shufflenet fp32 ms |", "| shufflenet fp32 ms | ORT fp32 ms | OpenVINO fp32 ms |")
        lines[1] += "---:|---:|"
    for row in rows:
        ms = row["ms"]
        best_peer = min(ms["ORT"], ms["OpenVINO"])
        has_int8 = "shufflenet" in ms
        own = f"{ms['shufflenet']:.3f}" if has_int8 else NOT_AVAILABLE
        ratio = f"{ms['shufflenet'] / best_peer:.2f}" if has_int8 else "n/a"
        own_ratio = f"{ms['shufflenet'] / ms['shufflenet fp32']:.2f}" if has_int8 else "n/a"
        rates = (" / ".join(f"{1000 * row['batch'] / ms[name]:.0f}" if name in ms else "n/a"
                            for name in INT8_RUNTIMES) if row["batch"] > 1 else "")
        differences = row["differences"]
        int8_differences = " / ".join(f"{differences[name]:.1e}" if name in differences else "n/a"
                                      for name in ("OpenVINO", "shufflenet"))
        flag = "" if worst_difference(row) < TOLERANCE else " **FAIL**"
        lines.append(f"| {row['config']} | {row['weights']} | {row['threads']} | {row['batch']} | {ms['ORT']:.3f} "
                     f"| {ms['OpenVINO']:.3f} | {own} | {ratio} | {ms['shufflenet fp32']:.3f} "
                     + (f"| {ms['ORT fp32']:.3f} | {ms['OpenVINO fp32']:.3f} " if peers else "")
                     + f"| {own_ratio} "
                     f"| {rates} | {int8_differences} | {differences['shufflenet fp32']:.1e}{flag} "
                     f"| {other_load(row['others'])} |")
    return "\n".join(lines)


def format_report(rows, args, started, load_before, load_after, elapsed, notes=()):
    if args.precision == "int8":
        return format_int8_report(rows, args, started, load_before, load_after, elapsed, notes)
    return "\n".join([
        f"## shufflenet vs ONNX Runtime vs OpenVINO ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; load average (1/5/15 min) before "
        f"{'/'.join(f'{v:.2f}' for v in load_before)}, after {'/'.join(f'{v:.2f}' for v in load_after)}",
        f"- ONNX Runtime {onnxruntime.__version__} (CPUExecutionProvider, ORT_ENABLE_ALL, ORT_SEQUENTIAL, "
        f"intra-op = threads, inter-op 1); OpenVINO {openvino.__version__} (CPU, f32 forced, "
        f"INFERENCE_NUM_THREADS = threads, PERFORMANCE_HINT LATENCY: one request of the whole batch); "
        f"shufflenet {source_revision()} (`{os.path.relpath(args.shufflenet, ROOT)}`); "
        f"Python {platform.python_version()}",
        f"- Method: per cell, {args.rounds} interleaved rounds of one block per runtime (rotating order); a block is "
        f"warm-up + N timed inferences, N sized to ~{args.block_seconds} s (at least {args.min_iterations}); the "
        "value is the median over rounds of each block's median. Peers: only session.run / infer is timed; "
        "shufflenet: its in-process p50 (`bench --format json`), so process start and loading do not count.",
        f"- Same weights (ONNX exported by Scripts/export_onnx.py, BatchNorm folded) and the same seeded 0..255 input "
        f"for all three; max rel. diff = max |logits - ORT| / max |ORT logit| over every block "
        f"(must be < {TOLERANCE:g}).",
        "- other CPU load = cores kept busy by other processes during the cell (/proc/stat minus this run's "
        "own CPU time); above ~0.2 the 2-thread rows are disturbed.",
        f"- ms = milliseconds per inference of the whole batch; shufflenet / best peer below 1 means shufflenet "
        f"is faster than both; total run {elapsed:.0f} s.",
        "",
        format_table(rows),
        "",
        "Spread (every block, to judge the noise):",
        "",
        *(f"- {row['config']} t{row['threads']} b{row['batch']}: {row['blocks']}" for row in rows),
        "",
    ])


def format_int8_report(rows, args, started, load_before, load_after, elapsed, notes):
    return "\n".join([
        f"## int8: shufflenet vs ONNX Runtime vs OpenVINO ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; load average (1/5/15 min) before "
        f"{'/'.join(f'{v:.2f}' for v in load_before)}, after {'/'.join(f'{v:.2f}' for v in load_after)}",
        f"- ONNX Runtime {onnxruntime.__version__} (CPUExecutionProvider, ORT_ENABLE_ALL, ORT_SEQUENTIAL, "
        f"intra-op = threads, inter-op 1); OpenVINO {openvino.__version__} (CPU plugin, f32 forced for the parts "
        f"left in float, INFERENCE_NUM_THREADS = threads, PERFORMANCE_HINT LATENCY); "
        f"shufflenet {source_revision()} (`{os.path.relpath(args.shufflenet, ROOT)}`); "
        f"Python {platform.python_version()}",
        "- Peer model: the fp32 ONNX model of Scripts/export_onnx.py (BatchNorm folded) quantized by "
        "onnxruntime.quantization.quantize_static: QuantFormat.QDQ, per_channel, int8 weights, uint8 "
        "activations, MinMax calibration, reduce_range off; calibrated at batch 1 on the photos of "
        f"`{args.calibration}` preprocessed as `classify` does, then re-batched (same scales for every batch).",
        *(f"  - {note}" for note in notes),
        f"- Method as in fp32 mode: per cell, {args.rounds} interleaved rounds of one block per runtime (rotating "
        f"order), blocks of warm-up + N timed inferences, N sized to ~{args.block_seconds} s (at least "
        f"{args.min_iterations}); the median over rounds of each block's median. The same seeded 0..255 input.",
        "- shufflenet int8 = `bench --weights` on the file `shufflenet quantize --calibration` makes from the same "
        "fp32 weights and photos (default method), n/a when this build has no int8; shufflenet fp32 is "
        "timed in the same rounds (with --fp32-peers, ORT and OpenVINO fp32 too). max rel. diff = "
        "max |logits - ORT int8| / max |ORT int8 logit| (int8 engines round differently: reported only); "
        f"shufflenet fp32 (and the fp32 peers) vs ORT fp32 must stay < {TOLERANCE:g}.",
        f"- ms = milliseconds per inference of the whole batch; total run {elapsed:.0f} s.",
        "",
        format_int8_table(rows),
        "",
        "Spread (every block, to judge the noise):",
        "",
        *(f"- {row['config']} t{row['threads']} b{row['batch']}: {row['blocks']}" for row in rows),
        "",
    ])


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def config_list(text):
    names = [item for item in text.split(",") if item]
    for name in names:
        parse_config(name)
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: expected configs like {','.join(ALL_CONFIGS)}")
    return names


def positive_int_list(text):
    try:
        values = [int(item) for item in text.split(",") if item]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list of positive integers")
    return values


def parse_arguments(argv):
    default_shared = os.environ.get("SHUFFLENET_SHARED_DATA",
                                    os.path.join(os.path.dirname(ROOT), "shared", "data", "shufflenet_v1"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shufflenet", required=True, help="the shufflenet executable (release build)")
    parser.add_argument("--quick", action="store_true",
                        help="short run: 0.5x-g3 and 1x-g3 at batch 1, 3 rounds of ~0.3 s blocks")
    parser.add_argument("--configs", type=config_list,
                        help=f"SCALEx-gGROUPS list (default {','.join(ALL_CONFIGS)})")
    parser.add_argument("--threads", type=positive_int_list, help="default 1,2")
    parser.add_argument("--batches", type=positive_int_list, help="default 1,32")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per cell (default 5, quick 3)")
    parser.add_argument("--block-seconds", type=float, help="target length of one block (default 0.75, quick 0.3)")
    parser.add_argument("--min-iterations", type=int, default=5, help="timed inferences per block, at least")
    parser.add_argument("--max-iterations", type=int, default=400, help="timed inferences per block, at most")
    parser.add_argument("--wait-for-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each cell, wait up to this long for other processes to use < 0.1 core")
    parser.add_argument("--shared-data", default=default_shared,
                        help="folder with weights/megvii_*.pth.tar (default $SHUFFLENET_SHARED_DATA or ../shared/...)")
    parser.add_argument("--precision", choices=("fp32", "int8"), default="fp32",
                        help="fp32 (default) or int8: the peers run a QDQ int8 model quantized from the same "
                             "weights and calibrated on --calibration")
    parser.add_argument("--fp32-peers", action="store_true",
                        help="with --precision int8: also time ORT and OpenVINO on the fp32 model in the same rounds")
    parser.add_argument("--calibration", metavar="DIR",
                        help="int8 calibration photos (default: SHARED_DATA/imagenet-sample-images)")
    parser.add_argument("--output", help="also write the markdown report to this file")
    args = parser.parse_args(argv)
    args.calibration = args.calibration or os.path.join(args.shared_data, "imagenet-sample-images")
    if args.precision == "int8" and not os.path.isdir(args.calibration):
        parser.error(f"--precision int8 needs calibration photos: {args.calibration} is not a folder")
    args.configs = args.configs or (["0.5x-g3", "1x-g3"] if args.quick else list(ALL_CONFIGS))
    args.threads = args.threads or [1, 2]
    args.batches = args.batches or ([1] if args.quick else [1, 32])
    args.rounds = args.rounds or (3 if args.quick else 5)
    args.block_seconds = args.block_seconds or (0.3 if args.quick else 0.75)
    if args.rounds < 1 or args.block_seconds <= 0 or not 1 <= args.min_iterations <= args.max_iterations:
        parser.error("--rounds must be >= 1, --block-seconds > 0 and 1 <= --min-iterations <= --max-iterations")
    if not os.access(args.shufflenet, os.X_OK):
        parser.error(f"--shufflenet {args.shufflenet}: not an executable file")
    args.shufflenet = os.path.abspath(args.shufflenet)
    return args


def main(argv):
    args = parse_arguments(argv)
    def log(message):
        print(message, file=sys.stderr, flush=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    log(f"compare-runtimes: configs {','.join(args.configs)}, threads {args.threads}, batches {args.batches}, "
        f"precision {args.precision}")
    try:
        rows, notes = run_comparison(args, log)
    except (OSError, ComparisonError, SafetensorsFormatError, WeightsFileError, onnx.checker.ValidationError) as error:
        log(f"compare-runtimes: {error}")
        return 1
    report = format_report(rows, args, started, load_before, os.getloadavg(),
                           (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds(), notes)
    print(report)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(report)
    failures = [row for row in rows if not worst_difference(row) < TOLERANCE]
    if failures:
        log(f"compare-runtimes: FAILED: outputs disagree by {TOLERANCE:g} or more of the largest logit in "
            + ", ".join(f"{r['config']} t{r['threads']} b{r['batch']} ({worst_difference(r):.2e})" for r in failures))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
