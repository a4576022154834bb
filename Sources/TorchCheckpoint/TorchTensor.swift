/// One tensor of a checkpoint: its geometry as torch stored it, and a zero-copy view of its storage bytes
/// inside the file. The geometry was checked against the storage at load time.
public struct TorchTensor: Sendable {
    public let dtype: TorchDType
    public let shape: [Int]
    /// Strides in elements, as stored (a transposed view has non-row-major strides).
    public let strides: [Int]
    /// Offset of element [0, 0, ...] in the storage, in elements.
    public let storageOffset: Int
    /// Product of `shape` (1 for a scalar, whose shape is []).
    public let elementCount: Int

    /// The storage window the tensor indexes into, starting at element 0 of the storage.
    let storage: ArraySlice<UInt8>
    let bigEndian: Bool
    /// File the tensor came from, for error messages.
    let path: String

    init(dtype: TorchDType, shape: [Int], strides: [Int], storageOffset: Int, elementCount: Int,
         storage: ArraySlice<UInt8>, bigEndian: Bool, path: String) {
        self.dtype = dtype
        self.shape = shape
        self.strides = strides
        self.storageOffset = storageOffset
        self.elementCount = elementCount
        self.storage = storage
        self.bigEndian = bigEndian
        self.path = path
    }

    /// True when the elements are laid out row-major with no gaps (size-1 axes may have any stride).
    public var isContiguous: Bool {
        let expected = TensorGeometry.contiguousStrides(shape)
        for axis in shape.indices where shape[axis] != 1 && strides[axis] != expected[axis] {
            return false
        }
        return true
    }
}
