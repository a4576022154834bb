/// Which rows and columns of an upright picture a computation reads: all that preprocessing needs of a
/// photo. OpenCV's bilinear resize reads two source rows and two source columns per output pixel, so the
/// 224x224 crop of a photo of any size reads at most 448 of its rows and 448 of its columns.
public struct PixelSelection: Sendable, Equatable {
    /// Ascending, without repeats, inside the picture.
    public let rows: [Int]
    /// Ascending, without repeats, inside the picture.
    public let columns: [Int]

    /// Sorts and removes repeats; indices outside `0..<height` / `0..<width` are dropped.
    public init(rows: some Sequence<Int>, columns: some Sequence<Int>, width: Int, height: Int) {
        self.rows = Self.normalised(rows, below: height)
        self.columns = Self.normalised(columns, below: width)
    }

    /// Every pixel.
    public static func all(width: Int, height: Int) -> PixelSelection {
        PixelSelection(rows: 0..<height, columns: 0..<width, width: width, height: height)
    }

    private static func normalised(_ indices: some Sequence<Int>, below limit: Int) -> [Int] {
        var seen = [Bool](repeating: false, count: max(0, limit))
        for index in indices where (0..<limit).contains(index) { seen[index] = true }
        return seen.indices.filter { seen[$0] }
    }
}

/// An upright picture known only at the rows and columns of a `PixelSelection`: `pixels` holds
/// `columns.count` x `rows.count` RGB pixels, pixel (i, j) being the picture's pixel
/// (`columns[i]`, `rows[j]`). Decoding only these (`ImageDecoder.withSampledDecode`) costs memory for them
/// and one row, not for the whole photo.
public struct SampledImage: Sendable, Equatable {
    /// Size of the whole upright picture.
    public let width: Int
    /// Height of the whole upright picture.
    public let height: Int
    /// The picture's rows that were sampled, ascending (`PixelSelection.rows`).
    public let rows: [Int]
    /// The picture's columns that were sampled, ascending (`PixelSelection.columns`).
    public let columns: [Int]
    /// The sampled pixels: `columns.count` x `rows.count`.
    public let pixels: RGBImage

    /// A whole decoded picture seen as a sample of every pixel.
    public init(_ image: RGBImage) {
        width = image.width
        height = image.height
        rows = Array(0..<image.height)
        columns = Array(0..<image.width)
        pixels = image
    }

    init(width: Int, height: Int, selection: PixelSelection, pixels: RGBImage) {
        assert(pixels.width == selection.columns.count && pixels.height == selection.rows.count)
        self.width = width
        self.height = height
        rows = selection.rows
        columns = selection.columns
        self.pixels = pixels
    }

    /// Whether every pixel of the picture is here (then `pixels` is the picture).
    public var isWhole: Bool { rows.count == height && columns.count == width }

    /// For each row of the picture, its row in `pixels`, or -1 when not sampled.
    func rowSlots() -> [Int32] { Self.slots(rows, count: height) }
    /// For each column of the picture, its column in `pixels`, or -1 when not sampled.
    func columnSlots() -> [Int32] { Self.slots(columns, count: width) }

    private static func slots(_ kept: [Int], count: Int) -> [Int32] {
        var slots = [Int32](repeating: -1, count: count)
        for (slot, index) in kept.enumerated() { slots[index] = Int32(slot) }
        return slots
    }
}

extension ImageOrientation {
    /// The stored (as decoded, before turning) rows and columns that hold the upright picture's
    /// `selection`, as one byte per stored row / column (1 = needed), for the C decoder.
    ///
    /// Every orientation maps upright rows to stored rows and upright columns to stored columns (or, for
    /// the four that swap sides, upright rows to stored columns and the reverse), each by a bijection that
    /// keeps or reverses order. So the stored sample, turned by this orientation as a small picture of its
    /// own, is the upright sample with rows and columns in ascending order.
    func storedMasks(of selection: PixelSelection, storedWidth: Int, storedHeight: Int)
        -> (rows: [UInt8], columns: [UInt8]) {
        var rowMask = [UInt8](repeating: 0, count: storedHeight)
        var columnMask = [UInt8](repeating: 0, count: storedWidth)
        let lastRow = storedHeight - 1, lastColumn = storedWidth - 1
        // (flip, index) -> stored index along that axis.
        func along(_ index: Int, last: Int, reversed: Bool) -> Int { reversed ? last - index : index }
        switch self {
        case .upright, .mirrorHorizontal, .rotate180, .mirrorVertical:
            let reverseRows = self == .rotate180 || self == .mirrorVertical
            let reverseColumns = self == .rotate180 || self == .mirrorHorizontal
            for y in selection.rows { rowMask[along(y, last: lastRow, reversed: reverseRows)] = 1 }
            for x in selection.columns { columnMask[along(x, last: lastColumn, reversed: reverseColumns)] = 1 }
        case .transpose, .rotate90Clockwise, .transverse, .rotate90CounterClockwise:
            // Upright column x comes from a stored row, upright row y from a stored column.
            let reverseRows = self == .rotate90Clockwise || self == .transverse
            let reverseColumns = self == .transverse || self == .rotate90CounterClockwise
            for x in selection.columns { rowMask[along(x, last: lastRow, reversed: reverseRows)] = 1 }
            for y in selection.rows { columnMask[along(y, last: lastColumn, reversed: reverseColumns)] = 1 }
        }
        return (rowMask, columnMask)
    }
}
