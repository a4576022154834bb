#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file with POSIX calls, so that "missing", "a directory" and "permission denied"
/// can be told apart (each is a different `ImageDecodingError.Kind` or message).
enum ImageDecodingFileReader {
    /// Far above any JPEG or PNG within the decoder's pixel limit; stops a mistaken path to a disk
    /// image or video from being read into memory.
    static let maximumFileBytes = 1 << 30

    static func readAll(_ path: String) throws(ImageDecodingError) -> [UInt8] {
        try readAll(path) { _ throws(ImageDecodingError) in maximumFileBytes }
    }

    /// Reads the whole file after asking `admit`, with the file's size, how many bytes may be read: it
    /// may wait for memory, or refuse. A file that has grown past what was admitted is an error.
    static func readAll(_ path: String, admit: (Int) throws(ImageDecodingError) -> Int) throws(ImageDecodingError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw openError(path: path, code: errno)
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw ImageDecodingError(path: path, kind: .unreadable, message: "cannot inspect file (\(describe(errno)))")
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw ImageDecodingError(path: path, kind: .unreadable, message: "is a directory, not an image file")
        }
        if status.st_size > maximumFileBytes {
            throw tooBig(path: path)
        }
        let size = Int(status.st_size)
        let admitted = min(try admit(size), maximumFileBytes)
        return try readToEnd(descriptor, path: path, expectedBytes: min(size, admitted), limit: admitted)
    }

    /// Reads until end of file rather than trusting st_size, which is 0 for pipes and may change.
    private static func readToEnd(_ descriptor: Int32, path: String, expectedBytes: Int,
                                  limit: Int) throws(ImageDecodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(expectedBytes)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress, buffer.count)
            }
            if count == 0 {
                return bytes
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw ImageDecodingError(path: path, kind: .unreadable, message: "read failed (\(describe(errno)))")
            }
            if count > limit - bytes.count {
                throw limit < maximumFileBytes
                    ? ImageDecodingError(path: path, kind: .unreadable, message: "file grew while being read (past \(limit) bytes)")
                    : tooBig(path: path)
            }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    private static func openError(path: String, code: Int32) -> ImageDecodingError {
        switch code {
        case ENOENT, ENOTDIR:
            ImageDecodingError(path: path, kind: .fileNotFound, message: "no such file")
        default:
            ImageDecodingError(path: path, kind: .unreadable, message: "cannot open file (\(describe(code)))")
        }
    }

    private static func tooBig(path: String) -> ImageDecodingError {
        ImageDecodingError(path: path, kind: .tooLarge,
                           message: "file larger than \(maximumFileBytes >> 20) MiB, too big to be a photo we can decode")
    }

    private static func describe(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
