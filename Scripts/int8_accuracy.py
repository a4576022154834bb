#!/usr/bin/env python3
"""Accuracy of shufflenet's int8 files against fp32, measured through the command-line tool as a user runs it.

For each Megvii checkpoint given (fp32 safetensors files, e.g. from `shufflenet convert`):
  * all 50 shared ImageNet photos: `quantize --calibration` on them, then `classify --format jsonl` with both
    files: top-1 accuracy against the class in each file name, and how often int8's top-1 equals fp32's;
  * held out (the issue's "photos you have not seen"): the 50 photos in two folds by sorted name (even/odd),
    each fold classified by an int8 file calibrated on the other fold only; accuracy and agreement summed over
    both folds;
  * held-out views (--views): 20 framings of each of the 50 photos (two crop sizes, centre and four corners, each
    mirrored; written as PNG), each fold's views classified by the file calibrated on the other fold: 1,000
    inputs, agreement only (a corner crop may not show the labelled object);
  * unseen photos of other classes (--unseen DIR, e.g. the hymenoptera ants and bees): agreement only (their
    ImageNet labels are not known), with the file calibrated on all 50.

int8 is counted twice: as `classify` gives it (near ties rechecked in fp32, `--int8-recheck`'s default) and as
computed (`--int8-recheck 0`), with how many answers were rechecked.

Usage: Scripts/int8_accuracy.py --shufflenet .build/release/shufflenet --weights g3.safetensors [--weights g8...]
       [--photos DIR] [--unseen DIR] [--method M] [--markdown]
Nothing is written outside a temporary folder. Standard library only, except --views (Pillow, for the crops).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode not in (0, 2):
        sys.exit(f"{' '.join(command)}: exit {result.returncode}: {result.stderr.strip()[-400:]}")
    return result.stdout


def wnid_indices():
    table = {}
    with open(os.path.join(ROOT, "Weights", "imagenet-classes.tsv")) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0].isdigit():
                table[parts[1]] = int(parts[0])
    return table


def top1(binary, weights, paths, recheck=None):
    """{path: top-1 class index} from `classify --format jsonl --top-k 1`, and how many answers the summary says
    were rechecked in fp32 (None for fp32 weights or a single path)."""
    command = [binary, "classify", "--weights", weights, "--format", "jsonl", "--top-k", "1", "--progress", "never"]
    if recheck is not None:
        command += ["--int8-recheck", str(recheck)]
    result = subprocess.run(command + ["-"], input="\n".join(paths) + "\n", capture_output=True, text=True)
    if result.returncode not in (0, 2):
        sys.exit(f"{' '.join(command)}: exit {result.returncode}: {result.stderr.strip()[-400:]}")
    rows = {}
    for line in result.stdout.splitlines():
        row = json.loads(line)
        if row.get("predictions"):
            rows[row["path"]] = row["predictions"][0]["index"]
    match = re.search(r"int8, (\d+) near tie", result.stderr)
    return rows, int(match.group(1)) if match else None


def views(photo, directory):
    """20 PNG framings of one photo: crops of 7/8 and 3/4 of each side at the centre and the four corners, each
    also mirrored (classify then resizes and centre-crops each as it would any photo)."""
    from PIL import Image, ImageOps
    paths = []
    with Image.open(photo) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
        w, h = image.size
        stem = os.path.splitext(os.path.basename(photo))[0]
        for fraction in (7 / 8, 3 / 4):
            cw, ch = round(w * fraction), round(h * fraction)
            for name, (left, top) in [("c", ((w - cw) // 2, (h - ch) // 2)), ("tl", (0, 0)), ("tr", (w - cw, 0)),
                                      ("bl", (0, h - ch)), ("br", (w - cw, h - ch))]:
                crop = image.crop((left, top, left + cw, top + ch))
                for mirrored in (False, True):
                    path = os.path.join(directory, f"{stem}-{fraction:.3f}-{name}{'-m' if mirrored else ''}.png")
                    (ImageOps.mirror(crop) if mirrored else crop).save(path)
                    paths.append(path)
    return paths


def quantize(binary, weights, calibration, output, method):
    command = [binary, "quantize", "--weights", weights, "-o", output, "-q"]
    if method:
        command += ["--method", method]
    for path in calibration:
        command += ["--calibration", path]
    run(command)


def count(fp32, int8, labels=None):
    agree = sum(1 for p in fp32 if p in int8 and int8[p] == fp32[p])
    if labels is None:
        return agree, None, None, len(fp32)
    right32 = sum(1 for p in fp32 if fp32[p] == labels[p])
    right8 = sum(1 for p in int8 if int8[p] == labels[p])
    return agree, right32, right8, len(fp32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shufflenet", default=os.path.join(ROOT, ".build", "release", "shufflenet"))
    parser.add_argument("--weights", action="append", required=True, help="fp32 safetensors (repeatable)")
    parser.add_argument("--photos", default=os.path.join(ROOT, "..", "shared", "data", "shufflenet_v1",
                                                         "imagenet-sample-images"))
    parser.add_argument("--unseen", help="photos of other classes: agreement only")
    parser.add_argument("--method", help="quantize --method (default: the tool's default)")
    parser.add_argument("--views", action="store_true", help="also the 1,000 held-out views (needs Pillow)")
    parser.add_argument("--int8-recheck", type=float, help="classify --int8-recheck for the first int8 column (default: the tool's)")
    args = parser.parse_args()

    indices = wnid_indices()
    photos = sorted(os.path.join(args.photos, f) for f in os.listdir(args.photos)
                    if f.lower().endswith((".jpg", ".jpeg", ".png")))
    labels = {p: indices[os.path.basename(p).split("_")[0]] for p in photos}
    unseen = []
    if args.unseen:
        for directory, _, files in os.walk(args.unseen):
            unseen += [os.path.join(directory, f) for f in files if f.lower().endswith((".jpg", ".jpeg", ".png"))]
        unseen.sort()
    folds = [photos[0::2], photos[1::2]]
    print("| weights | photos | fp32 top-1 | int8 top-1 | int8 top-1 = fp32 top-1 | as computed (`--int8-recheck 0`) | rechecked in fp32 |")
    print("|---|---|---:|---:|---:|---:|---:|")

    def percent(a, n):
        return f"{a}/{n} ({100 * a / n:.1f}%)"

    with tempfile.TemporaryDirectory() as work:
        fold_views = []
        if args.views:
            os.makedirs(os.path.join(work, "views"))
            fold_views = [[v for p in fold for v in views(p, os.path.join(work, "views"))] for fold in folds]
        for weights in args.weights:
            name = os.path.basename(weights)

            def row(fp32, int8_file, paths, labels=None):
                checked, rechecked = top1(args.shufflenet, int8_file, paths, recheck=args.int8_recheck)
                computed, _ = top1(args.shufflenet, int8_file, paths, recheck=0)
                return [count(fp32, checked, labels), count(fp32, computed), rechecked or 0]

            def show(what, result):
                (a, r32, r8, n), (b, _, _, _), rechecked = result
                top = f"{r32}/{n} | {r8}/{n}" if r32 is not None else " | "
                print(f"| {name} | {what} | {top} | {percent(a, n)} | {percent(b, n)} | {percent(rechecked, n)} |")

            def add(x, y):
                return [tuple((p or 0) + (q or 0) if (p is not None or q is not None) else None for p, q in zip(x[0], y[0])),
                        tuple(p + q if p is not None else None for p, q in zip(x[1], y[1])), x[2] + y[2]]

            fp32_all, _ = top1(args.shufflenet, weights, photos)
            int8_file = os.path.join(work, "all.safetensors")
            quantize(args.shufflenet, weights, photos, int8_file, args.method)
            show("the 50 calibration photos", row(fp32_all, int8_file, photos, labels))
            held = views_total = None
            for k, fold in enumerate(folds):
                fold_file = os.path.join(work, f"fold{k}.safetensors")
                quantize(args.shufflenet, weights, folds[1 - k], fold_file, args.method)
                r = row({p: fp32_all[p] for p in fold}, fold_file, fold, labels)
                held = r if held is None else add(held, r)
                if fold_views:
                    fp32_views, _ = top1(args.shufflenet, weights, fold_views[k])
                    r = row(fp32_views, fold_file, fold_views[k])
                    views_total = r if views_total is None else add(views_total, r)
            show("50 held out (2 folds of 25, each calibrated on the other)", held)
            if views_total:
                show("1,000 held-out views (20 framings of each photo, 2 folds)", views_total)
            if unseen:
                fp32_unseen, _ = top1(args.shufflenet, weights, unseen)
                show(f"{len(unseen)} unseen photos of other classes ({os.path.basename(os.path.normpath(args.unseen))})",
                     row(fp32_unseen, int8_file, unseen))


if __name__ == "__main__":
    main()
