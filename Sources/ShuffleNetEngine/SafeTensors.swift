import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with a weights file: which file, and what exactly is wrong with it.
public struct WeightsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file at fault (or the name given to bytes read elsewhere).
    public let path: String
    /// What is wrong with it, in words.
    public let problem: String
    /// An error about `path`.
    public init(path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}

/// Element types of the safetensors format (the subset this project reads and writes).
public enum SafeTensorsDType: String, Sendable {
    /// The format's names: floats of 64, 32 and 16 bits, bfloat16, signed integers, bytes and booleans.
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .F64, .I64: 8
        case .F32, .I32: 4
        case .F16, .BF16, .I16: 2
        case .I8, .U8, .BOOL: 1
        }
    }
}

/// One tensor's header entry: element type, shape, and its bytes inside the data section.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The tensor's name, e.g. `first_conv.0.weight`.
    public let name: String
    /// Element type.
    public let dtype: SafeTensorsDType
    /// Dimensions, outermost first (row-major).
    public let shape: [Int]
    /// Byte range relative to the start of the data section (after the header).
    public let byteRange: Range<Int>
    /// Elements in the tensor: the product of `shape`.
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed safetensors file (https://github.com/huggingface/safetensors, "Format"):
///
///     [8 bytes: header length N, little-endian u64]
///     [N bytes: JSON {"__metadata__": {str: str}, "<name>": {"dtype", "shape", "data_offsets": [begin, end]}}]
///     [data section: the tensors' raw little-endian bytes]
///
/// Everything is checked on load: the header length against the file size, the JSON's form, every dtype and
/// shape, every byte range against the data section (in bounds, exactly `elements * dtype size` long, no
/// overlaps, no holes), so that nothing later has to trust the file.
public struct SafeTensorsFile: Sendable {
    /// Largest header accepted; the format's reference implementation uses the same bound.
    public static let maximumHeaderLength = 100_000_000

    /// Where the file was read from (or the name given to its bytes).
    public let path: String
    /// The header's `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// Entries in the order of their data.
    public let entries: [SafeTensorsEntry]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Reads and checks the file at `path`.
    /// - Throws: `WeightsError` naming the file and the first problem found.
    public init(contentsOf path: String) throws(WeightsError) {
        try self.init(bytes: try readWholeFile(path), path: path)
    }

    /// Checks a file's bytes already in memory; `path` names it in errors.
    /// - Throws: `WeightsError` when the bytes are not a well-formed safetensors file (short, empty, bad header).
    public init(bytes: [UInt8], path: String) throws(WeightsError) {
        self.path = path
        self.bytes = bytes
        guard bytes.count >= 8 else {
            throw WeightsError(path: path, "not a safetensors file: \(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength >= 2, headerLength <= UInt64(Self.maximumHeaderLength),
              headerLength <= UInt64(bytes.count - 8) else {
            throw WeightsError(path: path, "header length \(headerLength) does not fit a file of \(bytes.count) bytes (not a safetensors file, or truncated)")
        }
        dataStart = 8 + Int(headerLength)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]), options: [])
        } catch {
            throw WeightsError(path: path, "header is not valid JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else {
            throw WeightsError(path: path, "header JSON is not an object")
        }
        var metadata: [String: String] = [:]
        var entries: [SafeTensorsEntry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else {
                    throw WeightsError(path: path, "__metadata__ is not an object of strings")
                }
                for (key, item) in dict {
                    guard let text = item as? String else {
                        throw WeightsError(path: path, "__metadata__ value for \"\(key)\" is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            entries.append(try Self.parseEntry(name: name, value: value, path: path))
        }
        entries.sort { $0.byteRange.lowerBound < $1.byteRange.lowerBound || ($0.byteRange.lowerBound == $1.byteRange.lowerBound && $0.byteRange.upperBound < $1.byteRange.upperBound) }
        let dataLength = bytes.count - dataStart
        var covered = 0
        for entry in entries {
            guard entry.byteRange.lowerBound == covered else {
                let what = entry.byteRange.lowerBound < covered ? "overlaps the previous tensor" : "leaves a hole after byte \(covered)"
                throw WeightsError(path: path, "tensor \"\(entry.name)\" at bytes \(entry.byteRange.lowerBound)..<\(entry.byteRange.upperBound) \(what)")
            }
            guard entry.byteRange.upperBound <= dataLength else {
                throw WeightsError(path: path, "tensor \"\(entry.name)\" ends at byte \(entry.byteRange.upperBound) but the data section has \(dataLength) bytes (truncated file?)")
            }
            covered = entry.byteRange.upperBound
        }
        guard covered == dataLength else {
            throw WeightsError(path: path, "\(dataLength - covered) bytes after the last tensor are not described by the header")
        }
        self.metadata = metadata
        self.entries = entries
    }

    private static func parseEntry(name: String, value: Any, path: String) throws(WeightsError) -> SafeTensorsEntry {
        guard let dict = value as? [String: Any] else {
            throw WeightsError(path: path, "header entry \"\(name)\" is not an object")
        }
        guard let dtypeName = dict["dtype"] as? String, let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            throw WeightsError(path: path, "tensor \"\(name)\": unsupported or missing dtype \(String(describing: dict["dtype"] ?? "nil"))")
        }
        guard let shapeValues = dict["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }), shape.count <= 8 else {
            throw WeightsError(path: path, "tensor \"\(name)\": shape is missing or not a list of non-negative integers")
        }
        guard let offsetValues = dict["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2,
              offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw WeightsError(path: path, "tensor \"\(name)\": data_offsets must be [begin, end] with 0 <= begin <= end")
        }
        var elements = 1
        for dim in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= Int(Int32.max) else {
                throw WeightsError(path: path, "tensor \"\(name)\": shape \(shape) is absurdly large")
            }
            elements = product
        }
        guard offsets[1] - offsets[0] == elements * dtype.byteSize else {
            throw WeightsError(path: path, "tensor \"\(name)\": \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtype.rawValue), expected \(elements * dtype.byteSize)")
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
    }

    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            // JSONSerialization gives NSNumber; reject non-integral numbers.
            guard let number = value as? NSNumber, let int = Int(exactly: number.doubleValue) else { return nil }
            result.append(int)
        }
        return result
    }

    /// The entry called `name`, or nil.
    public func entry(_ name: String) -> SafeTensorsEntry? { entries.first { $0.name == name } }

    /// The tensor's bytes as stored (any dtype), for tools that rewrite files.
    package func bytes(of entry: SafeTensorsEntry) -> [UInt8] {
        let start = dataStart + entry.byteRange.lowerBound
        return Array(bytes[start..<(start + entry.byteRange.count)])
    }

    /// The tensor's bytes, for the one-byte dtypes (`I8`, `U8`): `I8` values are these bytes' two's complement.
    /// - Throws: `WeightsError` for any other dtype.
    public func bytes(_ entry: SafeTensorsEntry, as dtype: SafeTensorsDType) throws(WeightsError) -> [UInt8] {
        guard entry.dtype == dtype, dtype.byteSize == 1 else {
            throw WeightsError(path: path, "tensor \"\(entry.name)\" has dtype \(entry.dtype.rawValue), expected \(dtype.rawValue)")
        }
        let start = dataStart + entry.byteRange.lowerBound
        return Array(bytes[start..<(start + entry.elementCount)])
    }

    /// The tensor's 16-bit words (for `F16`: binary16 bit patterns), in the file's row-major order.
    /// - Throws: `WeightsError` unless the tensor's dtype is `dtype`, a 2-byte type.
    package func words(_ entry: SafeTensorsEntry, as dtype: SafeTensorsDType) throws(WeightsError) -> [UInt16] {
        guard entry.dtype == dtype, dtype.byteSize == 2 else {
            throw WeightsError(path: path, "tensor \"\(entry.name)\" has dtype \(entry.dtype.rawValue), expected \(dtype.rawValue)")
        }
        let start = dataStart + entry.byteRange.lowerBound
        return bytes.withUnsafeBytes { raw in
            (0..<entry.elementCount).map { i in
                UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))
            }
        }
    }

    /// The tensor's values as Float32 (converting F16, BF16 and F64), in the file's row-major order.
    public func floats(_ entry: SafeTensorsEntry) throws(WeightsError) -> [Float] {
        let start = dataStart + entry.byteRange.lowerBound
        let count = entry.elementCount
        let dtype = entry.dtype
        guard [.F32, .F64, .F16, .BF16].contains(dtype) else {
            throw WeightsError(path: path, "tensor \"\(entry.name)\" has dtype \(dtype.rawValue); a floating-point type is needed")
        }
        return bytes.withUnsafeBytes { raw -> [Float] in
            guard let base = raw.baseAddress.map({ $0 + start }) else { return [] }
            func load<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
                T(littleEndian: base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
            }
            switch dtype {
            case .F64: return (0..<count).map { Float(Double(bitPattern: load($0, UInt64.self))) }
            case .F16: return (0..<count).map { Float(Float16(bitPattern: load($0, UInt16.self))) }
            case .BF16: return (0..<count).map { Float(bitPattern: UInt32(load($0, UInt16.self)) << 16) }
            default:
                #if _endian(little)
                // Little-endian F32 on a little-endian host: the bytes are already the floats.
                return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(start: base, count: 4 * count))
                    initialized = count
                }
                #else
                return (0..<count).map { Float(bitPattern: load($0, UInt32.self)) }
                #endif
            }
        }
    }
}

/// Builds a safetensors file: F32, F16, I8 and U8 tensors in the order added, the header padded with spaces to a
/// multiple of 8 bytes so the data section is aligned.
public struct SafeTensorsWriter {
    private var metadata: [String: String] = [:]
    private var tensors: [(name: String, shape: [Int], dtype: SafeTensorsDType, data: [UInt8])] = []

    /// An empty file with the given `__metadata__` strings.
    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Appends an F32 tensor; `values` are in row-major order and should number the product of `shape`.
    public mutating func add(_ name: String, shape: [Int], values: [Float]) {
        var data = [UInt8]()
        data.reserveCapacity(4 * values.count)
        for value in values {
            let bits = value.bitPattern
            data += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                     UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
        }
        tensors.append((name, shape, .F32, data))
    }

    /// Appends an I8 tensor.
    public mutating func add(_ name: String, shape: [Int], int8 values: [Int8]) {
        tensors.append((name, shape, .I8, values.map { UInt8(bitPattern: $0) }))
    }

    /// Appends an F16 tensor given as binary16 bit patterns.
    public mutating func add(_ name: String, shape: [Int], float16Bits values: [UInt16]) {
        var data = [UInt8]()
        data.reserveCapacity(2 * values.count)
        for bits in values { data += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8)] }
        tensors.append((name, shape, .F16, data))
    }

    /// Appends a U8 tensor.
    public mutating func add(_ name: String, shape: [Int], uint8 values: [UInt8]) {
        tensors.append((name, shape, .U8, values))
    }

    /// The whole file: header length, padded JSON header, tensor data.
    public func serialized() -> [UInt8] {
        var header = "{"
        var items: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(jsonStringLiteral($0)):\(jsonStringLiteral(metadata[$0]!))" }
            items.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + tensor.data.count
            items.append("\(jsonStringLiteral(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += items.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let length = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        out += headerBytes
        for tensor in tensors { out += tensor.data }
        return out
    }

    /// Writes to a temporary file beside `path`, then renames, so a crash never leaves half a weights file.
    public func write(to path: String) throws(WeightsError) {
        let temporary = path + ".partial-\(getpid())"
        let data = Data(serialized())
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw WeightsError(path: path, "cannot write: \(error.localizedDescription)")
        }
    }
}

/// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped. Used for the
/// safetensors header and, by the CLI's batch formats, for result rows.
public func jsonStringLiteral(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// Reads a whole file, with errors that say which file and why: straight into the array with POSIX calls (one
/// copy; going through `Data` made two and showed up in the start-up time of `classify`).
func readWholeFile(_ path: String) throws(WeightsError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        let code = errno
        throw WeightsError(path: path, code == ENOENT || code == ENOTDIR ? "no such file" : "cannot open (\(String(cString: strerror(code))))")
    }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { throw WeightsError(path: path, "cannot inspect (\(String(cString: strerror(errno))))") }
    guard (status.st_mode & S_IFMT) != S_IFDIR else { throw WeightsError(path: path, "is a directory, not a weights file") }
    // st_size sizes the first read; reading goes on to the end of the file in case it is a pipe or growing.
    var bytes = [UInt8](repeating: 0, count: max(Int(status.st_size), 0) + 1)
    var filled = 0
    while true {
        if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: max(bytes.count, 1 << 16))) }
        let count = bytes.withUnsafeMutableBytes { buffer in
            read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
        }
        if count == 0 { break }
        if count < 0 {
            if errno == EINTR { continue }
            throw WeightsError(path: path, "read failed (\(String(cString: strerror(errno))))")
        }
        filled += count
    }
    bytes.removeLast(bytes.count - filled)
    return bytes
}
