#!/usr/bin/env python3
"""Make a large tree of small photos for measuring `shufflenet classify` at corpus scale (never committed).

Writes a few JPEGs at 224-ish sizes (Pillow resizes of Scripts/samples, at different sizes and qualities
so that decoding work varies a little) into OUT/.sources, then fills OUT/dNNN/img_NNNNNN.jpg with hard links
to them (symlinks if the file system has no hard links): COUNT files in folders of PER_DIR.

Rerun:  Scripts/make_test_tree.py [--count 100000] [--per-dir 1000] [OUT]   (default OUT /tmp/shufflenet-tree-100k)
Needs Pillow (the project venv: .venv/bin/python Scripts/make_test_tree.py).
"""
import argparse
import os
import pathlib

from PIL import Image

SAMPLES = pathlib.Path(__file__).resolve().parent / "samples"
# (width, height, JPEG quality): around the network's 224x224 crop, like thumbnails in a photo corpus.
VARIANTS = [(224, 224, 90), (256, 192, 85), (240, 320, 80), (300, 225, 92), (224, 280, 75), (320, 240, 88)]


def make_sources(directory: pathlib.Path) -> list[pathlib.Path]:
    directory.mkdir(parents=True, exist_ok=True)
    photos = sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    sources = []
    for i, (w, h, quality) in enumerate(VARIANTS):
        with Image.open(photos[i % len(photos)]) as image:
            path = directory / f"source_{i}.jpg"
            image.convert("RGB").resize((w, h), Image.BILINEAR).save(path, quality=quality)
            sources.append(path)
    return sources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="/tmp/shufflenet-tree-100k")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--per-dir", type=int, default=1000)
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    sources = make_sources(out / ".sources")
    for n in range(args.count):
        folder = out / f"d{n // args.per_dir:03d}"
        if n % args.per_dir == 0:
            folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"img_{n:06d}.jpg"
        if target.exists():
            continue
        try:
            os.link(sources[n % len(sources)], target)
        except OSError:
            os.symlink(sources[n % len(sources)], target)
    print(f"{args.count} files under {out} (sources in {out / '.sources'})")


if __name__ == "__main__":
    main()
