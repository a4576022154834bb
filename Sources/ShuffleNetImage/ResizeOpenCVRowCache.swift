/// Horizontally resized source rows for `OpenCVResize`, two at a time.
///
/// Consecutive output rows mostly read the same pair of source rows (or share one), so like OpenCV
/// we keep the last two horizontal results instead of recomputing them or storing every row.
/// A class owning raw memory, so that the row pointers it hands out stay valid between calls
/// (pointers into a Swift array must not escape `withUnsafe...` closures).
final class OpenCVHorizontalRowCache {
    private let rowLength: Int
    /// Two rows of `rowLength` int32 sums `a * w0 + b * w1` (weights sum to 2048).
    private let storage: UnsafeMutablePointer<Int32>
    /// Which source row each slot holds (-1 = empty).
    private var slotRow = (-1, -1)

    init(rowLength: Int) {
        self.rowLength = rowLength
        storage = .allocate(capacity: 2 * rowLength)
    }

    deinit { storage.deallocate() }

    /// The horizontal results of source rows `top` and `bottom` (which may be equal), computing the
    /// missing ones. The pointers stay valid until the next call.
    func rows(top: Int, bottom: Int, source: UnsafeBufferPointer<UInt8>, imageWidth: Int,
              taps: OpenCVLinearTaps) -> (top: UnsafePointer<Int32>, bottom: UnsafePointer<Int32>) {
        let topSlot = slot(for: top, keeping: bottom, source: source, imageWidth: imageWidth, taps: taps)
        let bottomSlot = slot(for: bottom, keeping: top, source: source, imageWidth: imageWidth, taps: taps)
        return (UnsafePointer(storage + topSlot * rowLength), UnsafePointer(storage + bottomSlot * rowLength))
    }

    private func slot(for row: Int, keeping other: Int, source: UnsafeBufferPointer<UInt8>,
                      imageWidth: Int, taps: OpenCVLinearTaps) -> Int {
        if slotRow.0 == row { return 0 }
        if slotRow.1 == row { return 1 }
        // Never evict the other row the current output row needs.
        let victim = slotRow.0 == other ? 1 : 0
        resizeHorizontally(row: row, into: storage + victim * rowLength, source: source,
                           imageWidth: imageWidth, taps: taps)
        if victim == 0 { slotRow.0 = row } else { slotRow.1 = row }
        return victim
    }

    /// OpenCV's `HResizeLinear`: exact integer sums, no rounding yet.
    private func resizeHorizontally(row: Int, into destination: UnsafeMutablePointer<Int32>,
                                    source: UnsafeBufferPointer<UInt8>, imageWidth: Int,
                                    taps: OpenCVLinearTaps) {
        let rowStart = row * imageWidth * 3
        taps.first.withUnsafeBufferPointer { first in
        taps.second.withUnsafeBufferPointer { second in
        taps.firstWeight.withUnsafeBufferPointer { firstWeight in
        taps.secondWeight.withUnsafeBufferPointer { secondWeight in
            var out = destination
            for i in 0..<first.count {
                let a = rowStart + Int(first[i]) * 3
                let b = rowStart + Int(second[i]) * 3
                let wa = firstWeight[i], wb = secondWeight[i]
                out[0] = Int32(source[a]) &* wa &+ Int32(source[b]) &* wb
                out[1] = Int32(source[a + 1]) &* wa &+ Int32(source[b + 1]) &* wb
                out[2] = Int32(source[a + 2]) &* wa &+ Int32(source[b + 2]) &* wb
                out += 3
            }
        }
        }
        }
        }
    }
}
