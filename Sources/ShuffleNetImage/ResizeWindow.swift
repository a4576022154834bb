/// A rectangle of a resized image's output grid.
///
/// Both resamplers compute each output pixel from its own coordinates only, so the preprocessor can
/// ask for just the 224x224 centre crop of the "short side 256" image instead of resizing the whole
/// picture and throwing most of it away. A full resize is the window that covers the whole target.
struct ResizeWindow: Sendable, Equatable {
    /// Size of the whole (virtual) resized image the window is cut from.
    let targetWidth: Int
    let targetHeight: Int
    /// Output columns and rows actually computed; must lie inside the target.
    let columns: Range<Int>
    let rows: Range<Int>

    var width: Int { columns.count }
    var height: Int { rows.count }

    /// The whole target.
    init(targetWidth: Int, targetHeight: Int) {
        self.init(targetWidth: targetWidth, targetHeight: targetHeight,
                  columns: 0..<targetWidth, rows: 0..<targetHeight)
    }

    /// Internal callers guarantee `columns`/`rows` lie within the target (the crop geometry does).
    init(targetWidth: Int, targetHeight: Int, columns: Range<Int>, rows: Range<Int>) {
        self.targetWidth = targetWidth
        self.targetHeight = targetHeight
        self.columns = columns
        self.rows = rows
    }
}
