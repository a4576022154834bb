import Foundation
import ShuffleNet
import ShuffleNetBatch

/// Streams `embed --format npy`: the matrix file gets a header for 0 rows, then each row as it comes; its paths
/// file one line per row; `finish` rewrites the header (fixed size, `NumPyFile.float32MatrixHeaderSize`) with
/// the row count. Memory stays one row however many inputs; a run killed before `finish` leaves a valid .npy of
/// 0 rows rather than a header that disagrees with its data.
final class NumPyRowsWriter {
    private let matrix: Int32
    private let paths: Int32
    private let matrixPath: String
    private let pathsPath: String
    private let columns: Int
    private var rows = 0

    init(matrixPath: String, pathsPath: String, columns: Int) throws(BatchError) {
        self.matrixPath = matrixPath
        self.pathsPath = pathsPath
        self.columns = columns
        matrix = open(matrixPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard matrix >= 0 else { throw .outputUnwritable(path: matrixPath, reason: String(cString: strerror(errno))) }
        paths = open(pathsPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard paths >= 0 else {
            let reason = String(cString: strerror(errno))
            close(matrix)
            throw .outputUnwritable(path: pathsPath, reason: reason)
        }
        try Self.write(NumPyFile.float32MatrixHeader(rows: 0, columns: columns), to: matrix, name: matrixPath)
    }

    deinit {
        close(matrix)
        close(paths)
    }

    func append(_ row: [Float], path: String) throws(BatchError) {
        guard row.count == columns else {
            throw .outputUnwritable(path: matrixPath, reason: "a row of \(row.count) values in a matrix of \(columns) columns")
        }
        try Self.write(NumPyFile.float32Bytes(row), to: matrix, name: matrixPath)
        try Self.write(Data((path + "\n").utf8), to: paths, name: pathsPath)
        rows += 1
    }

    func finish() throws(BatchError) {
        let header = NumPyFile.float32MatrixHeader(rows: rows, columns: columns)
        let written = header.withUnsafeBytes { pwrite(matrix, $0.baseAddress, $0.count, 0) }
        guard written == header.count else {
            throw .outputUnwritable(path: matrixPath, reason: written < 0 ? String(cString: strerror(errno)) : "short write of the header")
        }
    }

    private static func write(_ data: Data, to descriptor: Int32, name: String) throws(BatchError) {
        try writeAll([UInt8](data), to: descriptor, name: name)
    }
}
