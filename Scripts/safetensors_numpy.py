"""Minimal safetensors reader: a file -> ({name: NumPy array}, {metadata key: value}).

Used by export_onnx.py and compare_runtimes.py so that they need neither torch nor the `safetensors` package.
Reads the layout described in Weights/README.md (8-byte little-endian header length, JSON header, data) and
checks it the way `shufflenet` does: header size, dtypes, shapes, byte ranges inside the data section with no
overlaps or holes. Converts F16, BF16 and F64 to float32; I8 and U8 (int8 files) stay int8 and uint8. Makes
nothing on disk; nothing to rerun.
"""

import json

import numpy as np

MAX_HEADER_BYTES = 100 * 1024 * 1024  # Same bound as the Swift reader: refuse absurd headers early.

# safetensors dtype -> (NumPy dtype as stored, bytes per element). BF16 has no NumPy dtype: read as uint16.
DTYPES = {
    "F32": (np.dtype("<f4"), 4),
    "F16": (np.dtype("<f2"), 2),
    "F64": (np.dtype("<f8"), 8),
    "BF16": (np.dtype("<u2"), 2),
    "I8": (np.dtype("i1"), 1),
    "U8": (np.dtype("u1"), 1),
}


class SafetensorsFormatError(Exception):
    """The file is not a safetensors file we can read; the message names the file and the problem."""

    def __init__(self, path, problem):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def load(path):
    """Returns (tensors, metadata): C-contiguous arrays by name (float32, or int8/uint8 for I8/U8 tensors), and the
    `__metadata__` strings."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as error:
        raise SafetensorsFormatError(path, f"cannot read ({error.strerror})") from error
    header, data_start = _read_header(path, blob)
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsFormatError(path, "__metadata__ must be an object of strings")
    data = memoryview(blob)[data_start:]
    tensors = {}
    ranges = []
    for name, entry in header.items():
        tensors[name] = _read_tensor(path, name, entry, data)
        ranges.append((entry["data_offsets"][0], entry["data_offsets"][1], name))
    _check_ranges_tile_data(path, ranges, len(data))
    return tensors, metadata


def _read_header(path, blob):
    if len(blob) < 8:
        raise SafetensorsFormatError(path, f"only {len(blob)} bytes, shorter than the 8-byte header length")
    length = int.from_bytes(blob[:8], "little")
    if length > MAX_HEADER_BYTES or 8 + length > len(blob):
        raise SafetensorsFormatError(path, f"header length {length} does not fit in a {len(blob)}-byte file")
    try:
        header = json.loads(blob[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SafetensorsFormatError(path, f"header is not JSON ({error})") from error
    if not isinstance(header, dict):
        raise SafetensorsFormatError(path, "header is not a JSON object")
    return header, 8 + length


def _read_tensor(path, name, entry, data):
    if not isinstance(entry, dict) or entry.get("dtype") not in DTYPES:
        raise SafetensorsFormatError(path, f"tensor {name}: dtype must be one of {sorted(DTYPES)}")
    shape = entry.get("shape")
    offsets = entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise SafetensorsFormatError(path, f"tensor {name}: shape {shape!r} is not a list of sizes")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise SafetensorsFormatError(path, f"tensor {name}: data_offsets {offsets!r} is not [begin, end]")
    stored, size = DTYPES[entry["dtype"]]
    begin, end = offsets
    expected = int(np.prod(shape, dtype=np.int64)) * size
    if not 0 <= begin <= end <= len(data) or end - begin != expected:
        raise SafetensorsFormatError(path, f"tensor {name}: bytes {begin}..{end} are not {expected} bytes "
                                           f"inside the {len(data)}-byte data section")
    raw = np.frombuffer(data[begin:end], dtype=stored).reshape(shape)
    if entry["dtype"] == "BF16":
        # bfloat16 is the top half of a float32.
        return (raw.astype(np.uint32) << 16).view(np.float32).copy()
    if entry["dtype"] in ("I8", "U8"):
        return raw.copy()
    return np.ascontiguousarray(raw, dtype=np.float32)


def _check_ranges_tile_data(path, ranges, data_length):
    position = 0
    for begin, end, name in sorted(ranges):
        if begin != position:
            problem = "overlaps the previous tensor" if begin < position else f"leaves a hole at byte {position}"
            raise SafetensorsFormatError(path, f"tensor {name} {problem}")
        position = end
    if position != data_length:
        raise SafetensorsFormatError(path, f"{data_length - position} bytes after the last tensor")

