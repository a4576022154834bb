/// Reading element values out of the (possibly strided, possibly big-endian) storage.
extension TorchTensor {
    /// The elements in row-major order as Float, whatever the stored dtype and strides. Integers convert
    /// exactly up to 2^24; bool gives 0 or 1.
    public func floats() throws(TorchCheckpointError) -> [Float] {
        guard elementCount > 0 else { return [] }
        // Re-checked here (cheap) so that no caller-visible path can index outside the storage.
        let (elements, extent) = try TensorGeometry.check(shape: shape, strides: strides, storageOffset: storageOffset, path: path)
        guard elements == elementCount, extent <= storage.count / dtype.elementSize else {
            throw TorchCheckpointError(path: path, problem: .badTensor(reason: "shape \(shape) does not fit its \(storage.count)-byte storage"))
        }
        if isContiguous {
            return convert(storageOffset..<(storageOffset + elementCount))
        }
        return convert(stridedIndices())
    }

    /// Storage element index of every tensor element, in row-major order (an odometer over the axes).
    private func stridedIndices() -> [Int] {
        var indices = [Int]()
        indices.reserveCapacity(elementCount)
        var counter = [Int](repeating: 0, count: shape.count)
        var position = storageOffset
        for _ in 0..<elementCount {
            indices.append(position)
            var axis = shape.count - 1
            while axis >= 0 {
                // Wrapping arithmetic: the last carry steps past the tensor, harmlessly, as nothing reads it.
                counter[axis] += 1
                position &+= strides[axis]
                if counter[axis] < shape[axis] { break }
                position &-= strides[axis] &* shape[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
        return indices
    }

    private func convert<Indices: Collection<Int>>(_ indices: Indices) -> [Float] {
        storage.withUnsafeBytes { raw in
            let swap = bigEndian
            switch dtype {
            case .float32:
                return indices.map { Float(bitPattern: Self.load(raw, $0, UInt32.self, swap)) }
            case .float64:
                return indices.map { Float(Double(bitPattern: Self.load(raw, $0, UInt64.self, swap))) }
            case .float16:
                return indices.map { Self.halfToFloat(Self.load(raw, $0, UInt16.self, swap)) }
            case .bfloat16:
                return indices.map { Float(bitPattern: UInt32(Self.load(raw, $0, UInt16.self, swap)) << 16) }
            case .int64:
                return indices.map { Float(Int64(bitPattern: Self.load(raw, $0, UInt64.self, swap))) }
            case .int32:
                return indices.map { Float(Int32(bitPattern: Self.load(raw, $0, UInt32.self, swap))) }
            case .int16:
                return indices.map { Float(Int16(bitPattern: Self.load(raw, $0, UInt16.self, swap))) }
            case .int8:
                return indices.map { Float(Int8(bitPattern: raw[$0])) }
            case .uint8:
                return indices.map { Float(raw[$0]) }
            case .bool:
                return indices.map { raw[$0] != 0 ? 1 : 0 }
            }
        }
    }

    @inline(__always)
    private static func load<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _ index: Int, _: T.Type, _ swap: Bool) -> T {
        let value = raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)
        return swap ? T(bigEndian: value) : T(littleEndian: value)
    }

    /// IEEE binary16 to binary32, written out because Swift's Float16 is not available on every platform.
    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0: // zero or subnormal: mantissa * 2^-24
            return sign * Float(mantissa) * 0x1p-24
        case 0x1F:
            return mantissa == 0 ? sign * .infinity : .nan
        default:
            let magnitude = Float(bitPattern: UInt32(exponent + 112) << 23 | mantissa << 13)
            return sign * magnitude
        }
    }
}
