"""Make Weights/imagenet-classes.tsv: the 1000 ImageNet-1k classes as `index<TAB>wnid<TAB>name`.

The file is built from two public lists, neither of which is committed here:

* wnids in class-index order: tensorflow/models (Apache-2.0),
  research/slim/datasets/imagenet_lsvrc_2015_synsets.txt (commit ebafe289fe907e3823ca665d9c0a8745f948d312),
  one wnid per line, sorted; line i is class i.
* short names in class-index order: pytorch/hub, imagenet_classes.txt
  (commit 3658dec5a4542903230047c6a7b9e8d5a0cf996c). That version is the Keras list
  (`<index>, <name_with_underscores>` after a 3-line header); replacing `_` by a space gives the
  names of torchvision's classic category list (e.g. "great white shark", "potter's wheel").
  Duplicates are kept as published: "crane" (134 bird, 517 machine) and "maillot" (638, 639).
  Newer torchvision releases rename 134 to "crane bird" and 639 to "maillot tank suit"; we keep the
  classic names because that is what the pytorch/hub list (and most tools) print.

Rerun (after saving those two files somewhere, e.g. /tmp/h4-sources/):
    .venv/bin/python Scripts/make_imagenet_classes.py \
        --wnids /tmp/h4-sources/imagenet_lsvrc_2015_synsets.txt \
        --names /tmp/h4-sources/pytorch_hub_imagenet_classes.txt \
        --output Weights/imagenet-classes.tsv
Then check it with Scripts/check_labels.py.
"""

import argparse
import re
import sys

CLASS_COUNT = 1000
WNID_PATTERN = re.compile(r"^n\d{8}$")
# A Keras-style line: "<index>, <name>". The header lines do not match it.
NAME_LINE_PATTERN = re.compile(r"^(\d+), (.+)$")


class LabelSourceError(Exception):
    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")


def read_wnids(path):
    with open(path, encoding="utf-8") as f:
        wnids = [line.strip() for line in f if line.strip()]
    if len(wnids) != CLASS_COUNT:
        raise LabelSourceError(path, f"expected {CLASS_COUNT} wnids, found {len(wnids)}")
    for line_number, wnid in enumerate(wnids, start=1):
        if not WNID_PATTERN.match(wnid):
            raise LabelSourceError(path, f"line {line_number} is not a wnid: {wnid!r}")
    # The standard class order is the sorted wnid order; a shuffled list would silently mislabel.
    if wnids != sorted(wnids) or len(set(wnids)) != CLASS_COUNT:
        raise LabelSourceError(path, "wnids are not sorted and unique")
    return wnids


def read_names(path):
    names = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = NAME_LINE_PATTERN.match(line.rstrip("\n"))
            if match:
                names[int(match.group(1))] = match.group(2).replace("_", " ")
    if sorted(names) != list(range(CLASS_COUNT)):
        raise LabelSourceError(path, f"expected indices 0..{CLASS_COUNT - 1}, found {len(names)} entries")
    return [names[i] for i in range(CLASS_COUNT)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wnids", required=True)
    parser.add_argument("--names", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    try:
        wnids = read_wnids(args.wnids)
        names = read_names(args.names)
    except (OSError, LabelSourceError) as error:
        print(f"make_imagenet_classes: {error}", file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        for index, (wnid, name) in enumerate(zip(wnids, names)):
            f.write(f"{index}\t{wnid}\t{name}\n")
    print(f"wrote {CLASS_COUNT} classes to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
