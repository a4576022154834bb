#!/usr/bin/env python3
"""Accuracy of shufflenet's int8 files against fp32, measured through the command-line tool as a user runs it.

For each Megvii checkpoint given (fp32 safetensors files, e.g. from `shufflenet convert`):
  * all 50 shared ImageNet photos: `quantize --calibration` on them, then `classify --format jsonl` with both
    files: top-1 accuracy against the class in each file name, and how often int8's top-1 equals fp32's;
  * held out (the issue's "photos you have not seen"): the 50 photos in two folds by sorted name (even/odd),
    each fold classified by an int8 file calibrated on the other fold only; accuracy and agreement summed over
    both folds;
  * unseen photos of other classes (--unseen DIR, e.g. the hymenoptera ants and bees): agreement only (their
    ImageNet labels are not known), with the file calibrated on all 50.

Usage: Scripts/int8_accuracy.py --shufflenet .build/release/shufflenet --weights g3.safetensors [--weights g8...]
       [--photos DIR] [--unseen DIR] [--method M] [--markdown]
Nothing is written outside a temporary folder. Standard library only.
"""

import argparse
import json
import os
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


def top1(binary, weights, paths):
    """{path: top-1 class index} from `classify --format jsonl --top-k 1`."""
    out = run([binary, "classify", "--weights", weights, "--format", "jsonl", "--top-k", "1", "-q", *paths])
    rows = {}
    for line in out.splitlines():
        row = json.loads(line)
        if row.get("predictions"):
            rows[row["path"]] = row["predictions"][0]["index"]
    return rows


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
    print("| weights | photos | fp32 top-1 | int8 top-1 | int8 top-1 = fp32 top-1 |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        for weights in args.weights:
            name = os.path.basename(weights)
            fp32_all = top1(args.shufflenet, weights, photos)
            int8_file = os.path.join(work, "all.safetensors")
            quantize(args.shufflenet, weights, photos, int8_file, args.method)
            int8_all = top1(args.shufflenet, int8_file, photos)
            a, r32, r8, n = count(fp32_all, int8_all, labels)
            print(f"| {name} | the 50 calibration photos | {r32}/{n} | {r8}/{n} | {a}/{n} ({100 * a / n:.0f}%) |")
            totals = [0, 0, 0, 0]
            for k, fold in enumerate(folds):
                other = folds[1 - k]
                fold_file = os.path.join(work, f"fold{k}.safetensors")
                quantize(args.shufflenet, weights, other, fold_file, args.method)
                result = count({p: fp32_all[p] for p in fold}, top1(args.shufflenet, fold_file, fold), labels)
                totals = [t + r for t, r in zip(totals, result)]
            a, r32, r8, n = totals
            print(f"| {name} | 50 held out (2 folds of 25, each calibrated on the other) | {r32}/{n} | {r8}/{n} | "
                  f"{a}/{n} ({100 * a / n:.0f}%) |")
            if unseen:
                a, _, _, n = count(top1(args.shufflenet, weights, unseen), top1(args.shufflenet, int8_file, unseen))
                print(f"| {name} | {n} unseen photos of other classes ({os.path.basename(os.path.normpath(args.unseen))}) "
                      f"| | | {a}/{n} ({100 * a / n:.1f}%) |")


if __name__ == "__main__":
    main()
