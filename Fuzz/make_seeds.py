#!/usr/bin/env python3
"""Make the seed corpora for the fuzz targets run by Scripts/fuzz.

Writes <out>/jpeg/, <out>/png/, <out>/exif/, <out>/weights/ and <out>/checkpoint/ (default out:
.build-fuzz/seeds):
  * jpeg, png: every JPEG / PNG fixture of Tests/ImageTests/Fixtures/{decode,hostile}, plus small
    JPEGs from libjpeg-turbo's cjpeg (apt package libjpeg-turbo-progs) covering arithmetic coding,
    restart intervals, progressive scans and each chroma subsampling, so the fuzzer starts from
    inputs that reach every decoder path;
  * exif: the fixtures that carry an EXIF block (JPEG APP1, PNG eXIf) or an XMP packet (APP1, iTXt);
  * weights: small safetensors files written here (valid ones and near-misses);
  * checkpoint: the torch.save fixtures of Tests/TorchCheckpointTests/Fixtures.
Nothing is taken from /work/shared.

Rerun (from the repository root): .venv/bin/python Fuzz/make_seeds.py [out]
"""

import io
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
IMAGE_FIXTURES = [ROOT / "Tests/ImageTests/Fixtures/decode", ROOT / "Tests/ImageTests/Fixtures/hostile",
                  ROOT / "Tests/ImageTests/Fixtures/xmp"]
CHECKPOINT_FIXTURES = ROOT / "Tests/TorchCheckpointTests/Fixtures"


def pattern(width, height, seed):
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 9 + y * 5 + 70 * c + rng.randint(0, 30, size=(height, width))) % 256 for c in range(3)]
    return np.stack(planes, axis=-1).astype(np.uint8)


def cjpeg_variants(out):
    ppm = io.BytesIO()
    Image.fromarray(pattern(19, 13, 1)).save(ppm, format="PPM")
    switches = [
        ["-arithmetic"], ["-restart", "1"], ["-restart", "2B"], ["-arithmetic", "-restart", "1"],
        ["-progressive"], ["-progressive", "-arithmetic"], ["-sample", "1x1"], ["-sample", "2x1"],
        ["-sample", "1x2"], ["-sample", "4x1"], ["-grayscale"], ["-rgb"], ["-optimize"],
    ]
    for number, extra in enumerate(switches):
        jpeg = subprocess.run(["cjpeg", "-quality", "80", *extra], input=ppm.getvalue(),
                              capture_output=True, check=True).stdout
        (out / f"cjpeg_{number:02d}.jpg").write_bytes(jpeg)


def safetensors(header, data):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def weights_seeds(out):
    floats = np.arange(12, dtype="<f4").tobytes()
    (out / "two_tensors.safetensors").write_bytes(safetensors(
        {"__metadata__": {"format": "shufflenet-v1"},
         "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
         "b": {"dtype": "F16", "shape": [8], "data_offsets": [16, 32]},
         "c": {"dtype": "BF16", "shape": [8], "data_offsets": [32, 48]}}, floats * 4))
    (out / "f64.safetensors").write_bytes(safetensors(
        {"x": {"dtype": "F64", "shape": [3], "data_offsets": [0, 24]}}, np.array([1, np.nan, np.inf]).tobytes()))
    metadata = {"format": "shufflenet-v1", "format_version": "1", "scale": "1.0", "groups": "3",
                "stem_channels": "24", "stage_channels": "240,480,960", "channel_shuffle": "megvii",
                "num_classes": "1000", "classifier_bias": "false", "batchnorm_epsilon": "1e-05",
                "preprocessing": "megvii"}
    (out / "metadata_only.safetensors").write_bytes(safetensors({"__metadata__": metadata}, b""))
    (out / "empty_header.safetensors").write_bytes(safetensors({}, b""))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".build-fuzz" / "seeds"
    targets = {name: out / name for name in ("jpeg", "png", "exif", "weights", "checkpoint")}
    for directory in targets.values():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
    for folder in IMAGE_FIXTURES:
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            head = path.read_bytes()[:8]
            if path.name.startswith("exif_") or (folder.name == "xmp" and head[:2] in (b"\xff\xd8", b"\x89P")):
                shutil.copy(path, targets["exif"] / f"{folder.name}_{path.name}")
            if head.startswith(b"\xff\xd8\xff"):
                shutil.copy(path, targets["jpeg"] / f"{folder.name}_{path.name}")
            elif head.startswith(b"\x89PNG"):
                shutil.copy(path, targets["png"] / f"{folder.name}_{path.name}")
    cjpeg_variants(targets["jpeg"])
    weights_seeds(targets["weights"])
    for path in sorted(CHECKPOINT_FIXTURES.glob("*")):
        if path.suffix != ".json" and path.stat().st_size < 200_000:
            shutil.copy(path, targets["checkpoint"] / path.name)
    for name, directory in targets.items():
        print(f"{name}: {len(list(directory.iterdir()))} seeds in {directory}")


if __name__ == "__main__":
    main()
