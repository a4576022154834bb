"""Read a legacy (pre-zip, torch < 1.6) `torch.save` file into NumPy arrays, without torch.

Makes nothing on its own; reference_forward.py imports `load_legacy_checkpoint`.
Run it directly to list the tensors of a checkpoint:
    .venv/bin/python Scripts/torch_legacy_reader.py /work/shared/data/shufflenet_v1/weights/X.pth.tar

The legacy stream is five pickles followed by raw storage bytes:
  1. the magic number 0x1950a86a20f9469cfc6c
  2. the protocol version 1001
  3. sys_info: {'protocol_version', 'little_endian', 'type_sizes'}
  4. the saved object. Each tensor is `torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
     requires_grad, backward_hooks)` and each storage is a persistent id
     ('storage', <torch.XStorage class>, key, location, element_count, view_metadata).
  5. the storage keys, in the order their bytes follow.
Then, per key: an 8-byte little-endian element count and that many elements of raw little-endian data.
Because the storage bytes come after the object pickle, tensors are first built as `_TensorPlan`s and
only turned into arrays once every storage has been read.
"""

import collections
import pickle
import struct
import sys

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch storage class name -> little-endian NumPy dtype of its elements.
STORAGE_DTYPES = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class CheckpointFormatError(Exception):
    """The file is not a legacy torch.save stream this reader understands."""

    def __init__(self, path, problem):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class _StorageType:
    """Stands in for a torch.XStorage class named by the pickle."""

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


class _StorageRef:
    def __init__(self, key, dtype, element_count, view):
        self.key = key
        self.dtype = dtype
        self.element_count = element_count
        self.view = view  # None, or (view_key, offset, size): a slice of another storage.


class _TensorPlan:
    """What `_rebuild_tensor_v2` was asked to build; materialised once storage bytes are known."""

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.size = tuple(size)
        self.stride = tuple(stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _TensorPlan(storage, storage_offset, size, stride)


class _LegacyUnpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file)
        self.path = path
        self.storages = {}

    def find_class(self, module, name):
        # Only the handful of globals a state_dict needs; anything else would mean running foreign code.
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise CheckpointFormatError(self.path, f"unsupported global {module}.{name} in the pickle")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise CheckpointFormatError(self.path, f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, element_count, view = pid
        if not isinstance(storage_type, _StorageType):
            raise CheckpointFormatError(self.path, f"storage {key} has no known storage type")
        ref = self.storages.get(key)
        if ref is None:
            ref = _StorageRef(key, storage_type.dtype, element_count, None)
            self.storages[key] = ref
        if view is not None:
            return _StorageRef(key, storage_type.dtype, element_count, view)
        return ref


def _read_storage_bytes(file, path, ref):
    header = file.read(8)
    if len(header) != 8:
        raise CheckpointFormatError(path, f"file ends before the element count of storage {ref.key}")
    (count,) = struct.unpack("<q", header)
    if count != ref.element_count:
        raise CheckpointFormatError(path, f"storage {ref.key} holds {count} elements, the pickle said {ref.element_count}")
    byte_count = count * ref.dtype.itemsize
    data = file.read(byte_count)
    if len(data) != byte_count:
        raise CheckpointFormatError(path, f"storage {ref.key} is truncated: {len(data)} of {byte_count} bytes")
    return np.frombuffer(data, dtype=ref.dtype)


def _materialise(plan, arrays, path):
    ref = plan.storage
    base = arrays[ref.key]
    if ref.view is not None:
        _view_key, view_offset, view_size = ref.view
        base = base[view_offset:view_offset + view_size]
    # Bounds check before as_strided, which would otherwise read outside the buffer silently.
    if plan.size and min(plan.size) > 0:
        last = plan.offset + sum((n - 1) * s for n, s in zip(plan.size, plan.stride))
        if plan.offset < 0 or last >= base.size or min(plan.stride) < 0:
            raise CheckpointFormatError(path, f"tensor of size {plan.size} runs outside storage {ref.key}")
    itemsize = base.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        base[plan.offset:], shape=plan.size, strides=[s * itemsize for s in plan.stride], writeable=False)
    return np.array(view, copy=True)


def _replace_plans(obj, arrays, path):
    if isinstance(obj, _TensorPlan):
        return _materialise(obj, arrays, path)
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((k, _replace_plans(v, arrays, path)) for k, v in obj.items())
    if isinstance(obj, dict):
        return {k: _replace_plans(v, arrays, path) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_plans(v, arrays, path) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_replace_plans(v, arrays, path) for v in obj)
    return obj


def load_legacy_checkpoint(path):
    """Returns the saved object with every tensor replaced by a NumPy array (its own copy)."""
    with open(path, "rb") as file:
        try:
            # Even the small header pickles go through the restricted unpickler: no foreign globals.
            magic = _LegacyUnpickler(file, path).load()
            if magic != LEGACY_MAGIC:
                raise CheckpointFormatError(path, "no legacy torch.save magic number (zip checkpoints are not handled here)")
            protocol = _LegacyUnpickler(file, path).load()
            if protocol != LEGACY_PROTOCOL:
                raise CheckpointFormatError(path, f"legacy protocol {protocol}, expected {LEGACY_PROTOCOL}")
            sys_info = _LegacyUnpickler(file, path).load()
            if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
                raise CheckpointFormatError(path, "only little-endian checkpoints are supported")
            unpickler = _LegacyUnpickler(file, path)
            saved = unpickler.load()
            storage_keys = _LegacyUnpickler(file, path).load()
        except (pickle.UnpicklingError, EOFError, ValueError) as error:
            raise CheckpointFormatError(path, f"not a readable legacy torch.save pickle stream ({error})") from error
        arrays = {}
        for key in storage_keys:
            ref = unpickler.storages.get(key)
            if ref is None:
                raise CheckpointFormatError(path, f"storage key {key} is listed but never used")
            arrays[key] = _read_storage_bytes(file, path, ref)
        missing = set(unpickler.storages) - set(arrays)
        if missing:
            raise CheckpointFormatError(path, f"storages {sorted(missing)} have no data")
    return _replace_plans(saved, arrays, path)


def load_state_dict(path):
    """The checkpoint's state_dict with the DataParallel `module.` prefix removed from every key."""
    saved = load_legacy_checkpoint(path)
    state = saved.get("state_dict", saved) if isinstance(saved, dict) else None
    if not isinstance(state, dict):
        raise CheckpointFormatError(path, "top level is neither a state_dict nor {'state_dict': ...}")
    prefix = "module."
    return collections.OrderedDict(
        (key[len(prefix):] if key.startswith(prefix) else key, value) for key, value in state.items())


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    try:
        state = load_state_dict(argv[1])
    except (OSError, CheckpointFormatError) as error:
        print(f"torch_legacy_reader: {error}", file=sys.stderr)
        return 1
    for key, value in state.items():
        print(f"{key}\t{value.dtype}\t{tuple(value.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
