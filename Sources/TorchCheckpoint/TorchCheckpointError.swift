/// Why a checkpoint could not be read. Every error names the file it came from (`path`) and, where it
/// makes sense, the byte offset in that file, so a corrupt download can be diagnosed without a hex editor.
public struct TorchCheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or the caller's label for an in-memory buffer) that was being read.
    public let path: String
    public let problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }

    /// What is wrong. Offsets are byte offsets from the start of the file.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        /// The operating system could not read the file.
        case unreadable(reason: String)
        case emptyFile
        /// Neither a legacy torch.save pickle stream nor a zip archive (a text file, a tar, an image...).
        case notACheckpoint(reason: String)
        /// The data ends before a field that must be there.
        case truncated(what: String, offset: Int)
        /// A pickle opcode this reader does not implement (or that has no meaning in a checkpoint).
        case unknownOpcode(UInt8, offset: Int)
        /// The pickle program is inconsistent: stack underflow, missing MARK, unknown memo slot, bad text...
        case malformedPickle(reason: String, offset: Int)
        /// The pickle asks to call a Python callable that a plain checkpoint never needs.
        case unsupportedCallable(name: String, offset: Int)
        /// The header pickles (magic number, protocol version, sys_info) are not what torch.save writes.
        case badHeader(reason: String)
        /// A storage declaration or storage payload is inconsistent.
        case badStorage(key: String, reason: String)
        /// A tensor's dtype, shape, strides or offset do not fit its storage.
        case badTensor(reason: String)
        /// The zip container is damaged or uses a feature torch never writes.
        case badZip(reason: String, offset: Int)
        /// The zip entry is compressed; torch.save stores entries uncompressed so they can be memory-mapped.
        case compressedEntry(name: String, method: Int)
        /// Two tensors would get the same dotted name.
        case duplicateName(String)
        /// A safety limit (nesting depth, object count, element count) was exceeded.
        case limitExceeded(what: String)

        public var description: String {
            switch self {
            case .unreadable(let reason):
                return "cannot read the file: \(reason)"
            case .emptyFile:
                return "the file is empty"
            case .notACheckpoint(let reason):
                return "not a torch.save checkpoint: \(reason)"
            case .truncated(let what, let offset):
                return "the data ends at byte \(offset) while reading \(what) (truncated file?)"
            case .unknownOpcode(let opcode, let offset):
                return "unsupported pickle opcode 0x\(String(opcode, radix: 16)) at byte \(offset)"
            case .malformedPickle(let reason, let offset):
                return "malformed pickle at byte \(offset): \(reason)"
            case .unsupportedCallable(let name, let offset):
                return "the pickle calls \(name) at byte \(offset), which a weights checkpoint does not need"
            case .badHeader(let reason):
                return "bad legacy torch.save header: \(reason)"
            case .badStorage(let key, let reason):
                return "storage '\(key)': \(reason)"
            case .badTensor(let reason):
                return "bad tensor: \(reason)"
            case .badZip(let reason, let offset):
                return "bad zip archive at byte \(offset): \(reason)"
            case .compressedEntry(let name, let method):
                return "zip entry '\(name)' is compressed (method \(method)); torch.save writes stored entries only"
            case .duplicateName(let name):
                return "two tensors are both named '\(name)'"
            case .limitExceeded(let what):
                return "safety limit exceeded: \(what)"
            }
        }
    }
}
