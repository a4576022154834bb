#!/usr/bin/env python3
"""Write COUNT large baseline JPEGs (quality 85, 4:2:0) for Scripts/check-memory's many-large-photos run.

    python Scripts/make_large_jpegs.py OUT_DIR [--count 16] [--megapixels 60]

The content looks like a photo to the encoder (smooth gradients plus fine noise, so files are megabytes, not
kilobytes). One base image is made with NumPy (fixed seed) and each file is that image rolled by a different
offset with a different colour tint, so the run is fast and deterministic. Needs Pillow and NumPy.
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def base_image(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(20261204)
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    channels = []
    for c, (fx, fy) in enumerate(((3.0, 2.0), (5.0, 1.0), (1.5, 4.0))):
        smooth = 110 + 70 * np.sin(2 * math.pi * fx * x + c) * np.cos(2 * math.pi * fy * y)
        channels.append(smooth)
    image = np.stack(channels, axis=-1)
    # Noise made at quarter resolution and repeated (cheap, and texture-like rather than pure white noise),
    # plus a little per-pixel noise.
    coarse = rng.normal(0.0, 14.0, size=((height + 3) // 4, (width + 3) // 4, 1)).astype(np.float32)
    image += np.repeat(np.repeat(coarse, 4, axis=0), 4, axis=1)[:height, :width]
    image += rng.integers(-6, 7, size=(height, width, 1), dtype=np.int8).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--megapixels", type=float, default=60.0)
    args = parser.parse_args()
    # 3:2 landscape, e.g. 60 MP -> 9487 x 6325.
    pixels = args.megapixels * 1e6
    height = int(round(math.sqrt(pixels / 1.5)))
    width = math.ceil(pixels / height)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    base = base_image(width, height)
    for i in range(args.count):
        shifted = np.roll(base, shift=(i * 397) % height, axis=0)
        shifted = np.roll(shifted, shift=(i * 1013) % width, axis=1)
        if i:
            shifted = shifted ^ np.uint8(i * 7 & 0x1F)  # small tint so no two files are alike
        path = args.out_dir / f"large_{i + 1:02d}_{width}x{height}.jpg"
        Image.fromarray(shifted, "RGB").save(path, "JPEG", quality=85, subsampling=2, progressive=False)
        print(f"{path.name}\t{path.stat().st_size}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
