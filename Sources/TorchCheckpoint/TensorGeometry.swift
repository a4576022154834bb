/// Overflow-safe arithmetic on tensor shapes, shared by load-time validation and `floats()`.
enum TensorGeometry {
    /// Returns the element count and the extent (one past the highest storage element touched) of a
    /// strided tensor, or throws if either does not fit in `Int`. An empty tensor touches nothing, so its
    /// extent is just its offset.
    static func check(shape: [Int], strides: [Int], storageOffset: Int, path: String) throws(TorchCheckpointError) -> (elements: Int, extent: Int) {
        let overflow = TorchCheckpointError(path: path, problem: .badTensor(
            reason: "shape \(shape) with strides \(strides) overflows 64-bit arithmetic"))
        var elements = 1
        for size in shape {
            let (product, overflowed) = elements.multipliedReportingOverflow(by: size)
            guard !overflowed else { throw overflow }
            elements = product
        }
        guard elements > 0 else { return (0, storageOffset) }
        var last = storageOffset
        for (size, stride) in zip(shape, strides) {
            let (step, stepOverflowed) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, sumOverflowed) = last.addingReportingOverflow(step)
            guard !stepOverflowed, !sumOverflowed else { throw overflow }
            last = sum
        }
        let (extent, extentOverflowed) = last.addingReportingOverflow(1)
        guard !extentOverflowed else { throw overflow }
        return (elements, extent)
    }

    /// Row-major strides for `shape`, i.e. what a contiguous tensor of that shape would have.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running = running &* max(shape[axis], 1)
        }
        return strides
    }
}
