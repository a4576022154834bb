"""Check Weights/imagenet-classes.tsv against the label files in the shared data folder.

Nothing is written. The check passes when, line by line,
* the index column counts 0..999,
* the wnid equals the wnid that starts the same line of labels/synset_words.txt, and
* the name equals the same line of labels/imagenet_classes.txt (torchvision's short names).

The shared folder is $SHUFFLENET_SHARED_DATA, or else the first `../shared/data/shufflenet_v1`
found walking up from the current directory.

Rerun: .venv/bin/python Scripts/check_labels.py [--tsv Weights/imagenet-classes.tsv]
"""

import argparse
import os
import sys

CLASS_COUNT = 1000


def find_shared_data():
    explicit = os.environ.get("SHUFFLENET_SHARED_DATA")
    if explicit:
        return explicit
    directory = os.path.abspath(os.getcwd())
    while True:
        candidate = os.path.join(directory, "..", "shared", "data", "shufflenet_v1")
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def compare(tsv_rows, synset_lines, name_lines):
    """Returns a list of human-readable mismatches (empty when everything agrees)."""
    problems = []
    for label, rows in (("imagenet-classes.tsv", tsv_rows), ("synset_words.txt", synset_lines),
                        ("imagenet_classes.txt", name_lines)):
        if len(rows) != CLASS_COUNT:
            problems.append(f"{label}: {len(rows)} lines, expected {CLASS_COUNT}")
    for i, (row, synset_line, name) in enumerate(zip(tsv_rows, synset_lines, name_lines)):
        fields = row.split("\t")
        if len(fields) != 3:
            problems.append(f"imagenet-classes.tsv line {i + 1}: {len(fields)} tab-separated fields, expected 3")
            continue
        index, wnid, tsv_name = fields
        if index != str(i):
            problems.append(f"imagenet-classes.tsv line {i + 1}: index {index!r}, expected {i}")
        expected_wnid = synset_line.split(" ", 1)[0]
        if wnid != expected_wnid:
            problems.append(f"class {i}: wnid {wnid!r}, synset_words.txt has {expected_wnid!r}")
        if tsv_name != name:
            problems.append(f"class {i}: name {tsv_name!r}, imagenet_classes.txt has {name!r}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tsv", default=os.path.join(os.path.dirname(__file__), "..", "Weights", "imagenet-classes.tsv"))
    args = parser.parse_args()
    shared = find_shared_data()
    if shared is None:
        print("check_labels: shared data folder not found (set SHUFFLENET_SHARED_DATA); nothing checked")
        return 2
    labels = os.path.join(shared, "labels")
    problems = compare(read_lines(args.tsv), read_lines(os.path.join(labels, "synset_words.txt")),
                       read_lines(os.path.join(labels, "imagenet_classes.txt")))
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_labels: {len(problems)} mismatch(es)")
        return 1
    print(f"check_labels: all {CLASS_COUNT} wnids match synset_words.txt and all names match imagenet_classes.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
