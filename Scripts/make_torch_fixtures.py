"""Make tiny torch.save checkpoints for Tests/TorchCheckpointTests, without torch installed.

What it writes (into Tests/TorchCheckpointTests/Fixtures/ by default):
  tiny_legacy.pth          legacy format (magic, 1001, sys_info, main pickle, key list, raw storages),
                           including an old-style storage view (view_metadata)
  tiny_zip.pth             torch >= 1.6 zip, laid out like torch 2.x (folder 'archive', 64-byte aligned
                           data via 'FB' extra fields, zip64 end records, byteorder record), plus a
                           _rebuild_tensor_v3 tensor on a torch.storage.UntypedStorage
  tiny_zip64.pth           same content, zip64 extra fields forced in every header, no byteorder record
                           (torch < 2.1), folder named after the file like torch 1.x did
  tiny_zip_bigendian.pth   byteorder 'big' with big-endian storage bytes
  tiny_zip_deflated.pth    the zip with DEFLATE-compressed entries (the reader must refuse it)
  expected.json            for every fixture: each tensor's dtype, shape, strides, storage offset and its
                           values in row-major order, computed here from the logical arrays

The pickles are made by Python's own pickle module: stand-in classes and functions are registered under
torch's module names (sys.modules['torch'], ['torch._utils'], ['torch.storage']) so pickle emits the same
GLOBAL opcodes torch does (torch._utils._rebuild_tensor_v2, torch.FloatStorage, collections.OrderedDict),
and a Pickler.persistent_id returns torch's storage tuples. Layout follows torch/serialization.py
(_legacy_save, _save) and caffe2/serialize/inline_container.cc (getPadding, MZ_ZIP_FLAG_WRITE_ZIP64).

It also contains an independent pure-Python reader (pickle + struct, no torch) used two ways:
  * every fixture written is read back and compared with expected.json;
  * `--megvii DIR` prints a few values from the real Megvii checkpoints; the Swift tests hard-code them.

Rerun:  .venv/bin/python Scripts/make_torch_fixtures.py            (from /work/main)
        .venv/bin/python Scripts/make_torch_fixtures.py --megvii /work/shared/data/shufflenet_v1/weights
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "TorchCheckpointTests", "Fixtures")

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# ---------------------------------------------------------------------------------------------------
# Stand-ins registered under torch's names so that pickle writes torch's GLOBALs.
# ---------------------------------------------------------------------------------------------------

torch_mod = types.ModuleType("torch")
utils_mod = types.ModuleType("torch._utils")
storage_mod = types.ModuleType("torch.storage")
sys.modules.update({"torch": torch_mod, "torch._utils": utils_mod, "torch.storage": storage_mod})

STORAGE_CLASSES = {  # storage class name -> numpy dtype of its elements
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
}
DTYPE_SIZE = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4,
              "int16": 2, "int8": 1, "uint8": 1, "bool": 1}


def _make_class(module, name):
    cls = type(name, (), {})
    cls.__module__ = module.__name__
    cls.__qualname__ = name
    setattr(module, name, cls)
    return cls


STORAGE_TYPE = {dtype: _make_class(torch_mod, name) for name, dtype in STORAGE_CLASSES.items()}
UNTYPED_STORAGE = _make_class(storage_mod, "UntypedStorage")


def _make_function(module, name):
    def function(*args):
        raise RuntimeError("stand-in, never called")
    function.__module__ = module.__name__
    function.__qualname__ = function.__name__ = name
    setattr(module, name, function)
    return function


rebuild_tensor_v2 = _make_function(utils_mod, "_rebuild_tensor_v2")
rebuild_tensor_v3 = _make_function(utils_mod, "_rebuild_tensor_v3")
rebuild_parameter = _make_function(utils_mod, "_rebuild_parameter")


class DType:
    """torch.float32 and friends pickle as a bare GLOBAL torch.<name> (their __reduce__ returns the name)."""

    def __init__(self, name):
        self.name = name
        setattr(torch_mod, name, self)

    def __reduce__(self):
        return self.name


DType.__module__ = "torch"  # where pickle looks the name up (torch.float32 ...)
DTYPE_OBJECT = {name: DType(name) for name in DTYPE_SIZE}


class Storage:
    """A storage: raw little-endian bytes of `dtype` elements, and its key in the file."""

    def __init__(self, key, dtype, values, untyped=False):
        self.key = key
        self.dtype = dtype
        self.untyped = untyped
        # Held in the storage's own precision, so expected values are what the file really contains.
        self.values = np.asarray(values, dtype="float32" if dtype == "bfloat16" else dtype).reshape(-1)

    @property
    def numel(self):
        return len(self.values)

    def raw(self, big_endian=False):
        if self.dtype == "bfloat16":  # top half of the float32 pattern; fixture values are exact in bf16
            bits = (np.asarray(self.values, dtype="<f4").view("<u4") >> 16).astype("<u2")
            return bits.astype(">u2" if big_endian else "<u2").tobytes()
        order = ">" if big_endian else "<"
        return np.asarray(self.values).astype(np.dtype(self.dtype).newbyteorder(order)).tobytes()


class StorageView:
    """Legacy-only: a window (offset, numel) onto a root storage, pickled with view_metadata."""

    def __init__(self, root, view_key, offset, numel):
        self.root, self.view_key, self.offset, self.numel = root, view_key, offset, numel


class Tensor:
    """A strided tensor on a storage; pickles the way torch's Tensor.__reduce_ex__ does."""

    def __init__(self, storage, offset, shape, strides, v3=False, parameter=False):
        self.storage, self.offset, self.shape, self.strides = storage, offset, tuple(shape), tuple(strides)
        self.v3, self.parameter = v3, parameter

    def __reduce_ex__(self, protocol):
        hooks = collections.OrderedDict()
        if self.v3:
            dtype = self.storage.dtype
            args = (self.storage, self.offset, self.shape, self.strides, False, hooks, DTYPE_OBJECT[dtype])
            data = (rebuild_tensor_v3, args)
        else:
            data = (rebuild_tensor_v2, (self.storage, self.offset, self.shape, self.strides, False, hooks))
        if self.parameter:
            return (rebuild_parameter, (Tensor(self.storage, self.offset, self.shape, self.strides, self.v3), True, hooks))
        return data

    def logical_values(self):
        """The elements in row-major order, gathered with numpy's own strided view."""
        if isinstance(self.storage, StorageView):
            base = self.storage.root.values[self.storage.offset:self.storage.offset + self.storage.numel]
        elif self.storage.untyped:
            base = self.storage.typed_values
        else:
            base = self.storage.values
        itemsize = base.itemsize
        view = np.lib.stride_tricks.as_strided(base[self.offset:], shape=self.shape,
                                               strides=tuple(s * itemsize for s in self.strides))
        return [float(v) for v in np.asarray(view, dtype=np.float64).reshape(-1)]

    def dtype_name(self):
        if isinstance(self.storage, StorageView):
            return self.storage.root.dtype
        return self.storage.dtype


class TorchPickler(pickle.Pickler):
    """Writes storages as persistent ids, exactly like torch.serialization's persistent_id."""

    def __init__(self, file, legacy):
        super().__init__(file, protocol=2)
        self.legacy = legacy
        self.storages = {}

    def persistent_id(self, obj):
        if isinstance(obj, StorageView):
            self.storages[obj.root.key] = obj.root
            cls = STORAGE_TYPE[obj.root.dtype]
            return ("storage", cls, obj.root.key, "cpu", obj.root.numel, (obj.view_key, obj.offset, obj.numel))
        if not isinstance(obj, Storage):
            return None
        self.storages[obj.key] = obj
        if obj.untyped:
            return ("storage", UNTYPED_STORAGE, obj.key, "cpu", obj.numel * DTYPE_SIZE[obj.dtype])
        cls = STORAGE_TYPE[obj.dtype]
        if self.legacy:
            return ("storage", cls, obj.key, "cuda:0", obj.numel, None)
        return ("storage", cls, obj.key, "cpu", obj.numel)


# ---------------------------------------------------------------------------------------------------
# Fixture content
# ---------------------------------------------------------------------------------------------------

def build_objects(legacy, with_v3):
    """The checkpoint object and {name: Tensor} of what the reader must find."""
    keys = iter(["140230000", "140230064", "140230128", "140230192", "140230256", "140230320",
                 "140230384", "140230448", "140230512", "140230576", "140230640"] if legacy else
                [str(i) for i in range(20)])
    shared = Storage(next(keys), "float32", [0.5, -1.25, 3.0, 1e-3, -0.0, 42.0])
    bias_store = Storage(next(keys), "float32", [9.0, 9.5, 0.25, -7.5, 1e30])
    f64 = Storage(next(keys), "float64", [1.0 / 3.0, -2.0, 1e-300, 12345.678])
    count = Storage(next(keys), "int64", [7])
    ints = Storage(next(keys), "int64", [-5, 0, 123456])
    half = Storage(next(keys), "float16", [1.0, -2.5, 65504.0, 2.0 ** -24])
    bf16 = Storage(next(keys), "bfloat16", [1.5, -0.15625])
    i32 = Storage(next(keys), "int32", [-2147483648, 2147483647 - 127, 3])
    small = Storage(next(keys), "uint8", [0, 255, 17])
    flags = Storage(next(keys), "bool", [True, False, True])

    tensors = collections.OrderedDict()
    tensors["module.conv.weight"] = Tensor(shared, 0, (2, 3), (3, 1))
    tensors["module.conv.weight_t"] = Tensor(shared, 0, (3, 2), (1, 3))          # transposed view
    tensors["module.bn.bias"] = Tensor(bias_store, 2, (3,), (1,))                 # storage offset 2
    tensors["module.bn.running_var"] = Tensor(f64, 0, (2, 2), (2, 1))
    tensors["module.bn.num_batches_tracked"] = Tensor(count, 0, (), ())           # scalar
    tensors["module.ints"] = Tensor(ints, 0, (3,), (1,))
    tensors["module.half"] = Tensor(half, 0, (2, 2), (1, 2))                      # column-major
    tensors["module.bf16"] = Tensor(bf16, 0, (2,), (1,))
    tensors["module.i32"] = Tensor(i32, 0, (3,), (1,))
    tensors["module.u8"] = Tensor(small, 1, (2, 1), (1, 1))
    tensors["module.flags"] = Tensor(flags, 0, (3,), (1,), parameter=True)
    tensors["module.empty"] = Tensor(shared, 6, (0, 4), (4, 1))                   # no elements
    if legacy:
        view = StorageView(bias_store, "140239999", 1, 3)
        tensors["module.view"] = Tensor(view, 1, (2,), (1,))                      # elements 2, 3 of bias_store
    if with_v3:
        raw = Storage(next(keys), "float32", [2.0, 4.0, -8.0], untyped=True)
        raw.typed_values = np.asarray([2.0, 4.0, -8.0], dtype=np.float32)
        tensors["module.v3"] = Tensor(raw, 1, (2,), (1,), v3=True)

    state_dict = collections.OrderedDict(tensors)
    # torch's state_dict() carries this attribute; pickle writes it with BUILD.
    state_dict._metadata = collections.OrderedDict([("", {"version": 1}), ("module", {"version": 1})])
    extra = Tensor(ints, 1, (2,), (1,))
    checkpoint = {"state_dict": state_dict, "epoch": 3, "arch": "tiny", "best_acc": 0.625,
                  "optimizer": {"lr": 0.1, "betas": (0.9, 0.999)},
                  "extras": [extra, (Tensor(shared, 5, (), ()), None)]}
    expected = collections.OrderedDict(("state_dict." + k, v) for k, v in tensors.items())
    expected["extras.0"] = extra
    expected["extras.1.0"] = checkpoint["extras"][1][0]
    return checkpoint, expected


def expected_json(expected):
    return {name: {"dtype": t.dtype_name(), "shape": list(t.shape), "strides": list(t.strides),
                   "storageOffset": t.offset, "values": t.logical_values()}
            for name, t in expected.items()}


# ---------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------

def write_legacy(obj):
    out = io.BytesIO()
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION,
                   dict(protocol_version=PROTOCOL_VERSION, little_endian=True,
                        type_sizes=dict(short=2, int=4, long=8))):
        pickle.dump(header, out, protocol=2)
    pickler = TorchPickler(out, legacy=True)
    pickler.dump(obj)
    keys = sorted(pickler.storages)
    pickle.dump(keys, out, protocol=2)
    for key in keys:
        storage = pickler.storages[key]
        out.write(struct.pack("<q", storage.numel))
        out.write(storage.raw())
    return out.getvalue()


def zip_records(obj, big_endian, byteorder_record):
    """The (name, bytes) records torch 2.x's _save writes, in its order."""
    data = io.BytesIO()
    pickler = TorchPickler(data, legacy=False)
    pickler.dump(obj)
    records = [("data.pkl", data.getvalue()), (".format_version", b"1"), (".storage_alignment", b"64")]
    if byteorder_record:
        records.append(("byteorder", b"big" if big_endian else b"little"))
    for key in sorted(pickler.storages, key=int):
        records.append((f"data/{key}", pickler.storages[key].raw(big_endian)))
    records += [("version", b"3\n"), (".data/serialization_id", b"1234567890123456789012345678901234567890")]
    return records


def write_torch_zip(records, folder, force_zip64):
    """A zip the way PyTorchStreamWriter (miniz) writes it: stored entries, data aligned to 64 bytes with
    an 'FB' padding extra field in the local header, and zip64 end-of-directory records."""
    out = bytearray()
    central = bytearray()
    for name, payload in records:
        full = f"{folder}/{name}".encode()
        crc = zlib.crc32(payload) & 0xFFFFFFFF
        offset = len(out)
        zip64_local = b""
        size32 = len(payload)
        if force_zip64:
            zip64_local = struct.pack("<HHQQ", 1, 16, len(payload), len(payload))
            size32 = 0xFFFFFFFF
        start = offset + 30 + len(full) + len(zip64_local) + 4
        padding = (-start) % 64
        extra = zip64_local + b"FB" + struct.pack("<H", padding) + b"Z" * padding
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if force_zip64 else 20, 0, 0, 0, 0x21,
                           crc, size32, size32, len(full), len(extra))
        out += full + extra
        assert len(out) % 64 == 0
        out += payload
        cextra = struct.pack("<HHQQQ", 1, 24, len(payload), len(payload), offset) if force_zip64 else b""
        coffset = 0xFFFFFFFF if force_zip64 else offset
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 45 if force_zip64 else 20, 0, 0, 0,
                               0x21, crc, size32, size32, len(full), len(cextra), 0, 0, 0, 0, coffset)
        central += full + cextra
    cd_offset = len(out)
    out += central
    zip64_end = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, len(records), len(records),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(records), len(records), len(central), cd_offset, 0)
    return bytes(out)


def write_deflated_zip(records, folder):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in records:
            archive.writestr(f"{folder}/{name}", payload)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------
# Independent reader (pickle + struct + numpy), used to check fixtures and to read Megvii's files
# ---------------------------------------------------------------------------------------------------

class _StorageRef:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, key, numel


class _RefUnpickler(pickle.Unpickler):
    def __init__(self, file, declared):
        super().__init__(file)
        self.declared = declared

    def find_class(self, module, name):
        if name in STORAGE_CLASSES:
            return ("storage_class", STORAGE_CLASSES[name])
        if name == "UntypedStorage":
            return ("storage_class", "uint8")
        if module == "torch" and name in DTYPE_SIZE:
            return ("dtype", name)
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor_v3"):
            return lambda storage, offset, size, stride, *rest: ("tensor", storage, offset, size, stride, rest)
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, *rest: data
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")

    def persistent_load(self, pid):
        _, (_, dtype), key, _, numel = pid[:5]
        view = pid[5] if len(pid) > 5 else None
        self.declared[key] = (dtype, numel)
        return (_StorageRef(dtype, key, numel), view)


def _np_dtype(name, big_endian=False):
    order = ">" if big_endian else "<"
    code = {"bfloat16": "u2", "bool": "?"}.get(name) or np.dtype(name).str[1:]
    return np.dtype(code).newbyteorder(order)


def _tensor_values(entry, raw_by_key, big_endian):
    _, (ref, view), offset, size, stride, rest = entry
    dtype = rest[2][1] if len(rest) >= 3 and isinstance(rest[2], tuple) else ref.dtype
    raw = raw_by_key[ref.key]
    if view is not None:
        itemsize = DTYPE_SIZE[ref.dtype]
        raw = raw[view[1] * itemsize:(view[1] + view[2]) * itemsize]
    elements = np.frombuffer(raw, dtype=_np_dtype(dtype, big_endian))
    if dtype == "bfloat16":
        elements = (elements.astype("<u4") << 16).view("<f4")
    count = int(np.prod(size)) if size else 1
    if count == 0:
        return dtype, list(size), []
    view_array = np.lib.stride_tricks.as_strided(elements[offset:], shape=size,
                                                 strides=tuple(s * elements.itemsize for s in stride))
    return dtype, list(size), [float(v) for v in np.asarray(view_array, dtype=np.float64).reshape(-1)]


def _flatten(obj, prefix, out):
    if isinstance(obj, tuple) and obj and obj[0] == "tensor":
        out[prefix] = obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            _flatten(value, f"{prefix}.{index}" if prefix else str(index), out)


def reference_read(blob):
    """{name: (dtype, shape, values)} read without any of the Swift code's logic."""
    declared, raw_by_key, big_endian = {}, {}, False
    if blob[:4] == b"PK\x03\x04":
        archive = zipfile.ZipFile(io.BytesIO(blob))
        folder = archive.namelist()[0].split("/")[0]
        if f"{folder}/byteorder" in archive.namelist():
            big_endian = archive.read(f"{folder}/byteorder") == b"big"
        root = _RefUnpickler(io.BytesIO(archive.read(f"{folder}/data.pkl")), declared).load()
        for key in declared:
            raw_by_key[key] = archive.read(f"{folder}/data/{key}")
    else:
        stream = io.BytesIO(blob)
        assert pickle.load(stream) == MAGIC_NUMBER
        assert pickle.load(stream) == PROTOCOL_VERSION
        pickle.load(stream)
        root = _RefUnpickler(stream, declared).load()
        for key in pickle.load(stream):
            (numel,) = struct.unpack("<q", stream.read(8))
            dtype, declared_numel = declared[key]
            assert numel == declared_numel
            raw_by_key[key] = stream.read(numel * DTYPE_SIZE[dtype])
    flat = {}
    _flatten(root, "", flat)
    return {name: _tensor_values(entry, raw_by_key, big_endian) for name, entry in flat.items()}


def check_against_expected(blob, expected, label):
    read = reference_read(blob)
    assert set(read) == set(expected), (label, set(read) ^ set(expected))
    for name, want in expected.items():
        dtype, shape, values = read[name]
        assert dtype == want["dtype"] and shape == want["shape"], (label, name, dtype, shape)
        assert np.allclose(values, want["values"], rtol=0, atol=0), (label, name, values, want["values"])


def print_megvii(directory):
    for group in ("g3", "g8"):
        path = os.path.join(directory, f"megvii_ShuffleNetV1_0.5x_{group}.pth.tar")
        with open(path, "rb") as handle:
            tensors = reference_read(handle.read())
        print(f"{path}: {len(tensors)} tensors, "
              f"{sum(int(np.prod(s)) if s else 1 for _, s, _ in tensors.values())} elements")
        for name in ("state_dict.module.first_conv.0.weight", "state_dict.module.first_conv.1.running_var",
                     "state_dict.module.classifier.0.weight", "state_dict.module.features.0.branch_main_1.0.weight",
                     "state_dict.module.first_conv.1.num_batches_tracked"):
            dtype, shape, values = tensors[name]
            shown = ", ".join(repr(float(np.float32(v))) for v in (values[:3] + values[-1:]))
            print(f"  {name} {dtype} {shape} first3+last: [{shown}] sum={float(np.sum(np.asarray(values, dtype=np.float64)))!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--megvii", help="directory with Megvii's .pth.tar files: print reference values")
    args = parser.parse_args()
    if args.megvii:
        print_megvii(args.megvii)
        return

    os.makedirs(args.out, exist_ok=True)
    files, expectations = {}, {}

    obj, expected = build_objects(legacy=True, with_v3=False)
    files["tiny_legacy.pth"] = write_legacy(obj)
    expectations["tiny_legacy.pth"] = expected_json(expected)

    obj, expected = build_objects(legacy=False, with_v3=True)
    little = zip_records(obj, big_endian=False, byteorder_record=True)
    files["tiny_zip.pth"] = write_torch_zip(little, "archive", force_zip64=False)
    files["tiny_zip64.pth"] = write_torch_zip(zip_records(obj, False, byteorder_record=False), "tiny_zip64", force_zip64=True)
    files["tiny_zip_bigendian.pth"] = write_torch_zip(zip_records(obj, True, byteorder_record=True), "archive", force_zip64=False)
    files["tiny_zip_deflated.pth"] = write_deflated_zip(little, "archive")
    for name in ("tiny_zip.pth", "tiny_zip64.pth", "tiny_zip_bigendian.pth"):
        expectations[name] = expected_json(expected)

    for name, blob in files.items():
        if name in expectations:
            check_against_expected(blob, expectations[name], name)
        with open(os.path.join(args.out, name), "wb") as handle:
            handle.write(blob)
    with open(os.path.join(args.out, "expected.json"), "w") as handle:
        json.dump(expectations, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote", ", ".join(f"{n} ({len(b)} B)" for n, b in files.items()), "and expected.json to", args.out)


if __name__ == "__main__":
    main()
