/// The order in which files are listed and results written: "natural" order, so `img2.jpg` comes before
/// `img10.jpg`.
///
/// The rule, on the names' UTF-8 bytes (the same as comparing Unicode scalars, with no locale so that it
/// is identical on every machine): runs of ASCII digits compare by numeric value (leading zeros ignored),
/// every other byte by value. Names that are equal under that rule (`a01`, `a1`) are ordered by their plain
/// bytes, so the order is total. `Scripts/batch/merge-shards` implements the same rule.
package enum InputNaturalOrder {
    /// True when `a` sorts before `b`.
    package static func areInIncreasingOrder(_ a: String, _ b: String) -> Bool {
        compare(Array(a.utf8), Array(b.utf8)) < 0
    }

    /// Sorts names, converting each to bytes once.
    package static func sorted(_ names: [String]) -> [String] {
        names.map { (name: $0, bytes: Array($0.utf8)) }
            .sorted { compare($0.bytes, $1.bytes) < 0 }
            .map(\.name)
    }

    /// Negative, zero or positive as `x` sorts before, equal to, or after `y`.
    package static func compare(_ x: [UInt8], _ y: [UInt8]) -> Int {
        var i = 0, j = 0
        while i < x.count, j < y.count {
            if isDigit(x[i]), isDigit(y[j]) {
                let (xStart, xEnd) = digitRun(x, from: i)
                let (yStart, yEnd) = digitRun(y, from: j)
                // Without leading zeros, a longer run is a larger number; equal lengths compare digit by digit.
                if xEnd - xStart != yEnd - yStart { return (xEnd - xStart) - (yEnd - yStart) }
                for k in 0..<(xEnd - xStart) where x[xStart + k] != y[yStart + k] {
                    return Int(x[xStart + k]) - Int(y[yStart + k])
                }
                i = xEnd
                j = yEnd
            } else {
                if x[i] != y[j] { return Int(x[i]) - Int(y[j]) }
                i += 1
                j += 1
            }
        }
        let xRest = x.count - i, yRest = y.count - j
        if xRest != yRest { return xRest - yRest }
        return x.lexicographicallyPrecedes(y) ? -1 : (x == y ? 0 : 1)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// The significant digits of the run starting at `start`: from the first non-zero digit (or the last
    /// zero, for an all-zero run) to the end of the run.
    private static func digitRun(_ bytes: [UInt8], from start: Int) -> (Int, Int) {
        var end = start
        while end < bytes.count, isDigit(bytes[end]) { end += 1 }
        var first = start
        while first < end - 1, bytes[first] == 0x30 { first += 1 }
        return (first, end)
    }
}
