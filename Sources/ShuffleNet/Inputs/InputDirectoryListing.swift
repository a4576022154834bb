#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One directory's entries that matter to the walk, in natural order. Only one directory is listed at a
/// time per level, so memory grows with the widest directory and the depth, never with the whole tree.
struct InputDirectoryListing {
    enum Kind: Equatable {
        case file
        case directory
        /// Named like an image but not a regular file (FIFO, socket, device): reading it could block forever.
        case notRegularFile
        /// A name that is not valid UTF-8: paths are Swift strings, so it could be neither opened nor
        /// written to the output exactly. Reported rather than silently dropped.
        case undecodableName
    }

    struct Entry {
        let name: String
        let kind: Kind
    }

    /// Files named like images, and subdirectories when `includeDirectories`. Symbolic links to files are
    /// files (a dangling one too: it becomes a "no such file" row); symbolic links to directories are not
    /// followed, which rules out cycles (`find` does the same by default).
    static func list(_ directory: String, filter: InputFilter, includeDirectories: Bool) throws(InputWalkProblem) -> [Entry] {
        guard let handle = opendir(directory) else { throw InputWalkProblem(code: errno) }
        defer { closedir(handle) }
        var entries: [Entry] = []
        while true {
            errno = 0
            guard let raw = readdir(handle) else {
                if errno != 0 { throw InputWalkProblem(code: errno) }
                break
            }
            let decoded = withUnsafePointer(to: &raw.pointee.d_name) { pointer in
                let cName = UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self)
                return (exact: String(validatingCString: cName), repaired: String(cString: cName))
            }
            let name = decoded.repaired
            if name == "." || name == ".." { continue }
            if decoded.exact == nil {
                if filter.isImageNamed(name) || includeDirectories { entries.append(Entry(name: name, kind: .undecodableName)) }
                continue
            }
            let path = InputWalker.join(directory, name)
            var type = raw.pointee.d_type
            if type == UInt8(DT_UNKNOWN) { type = typeWithoutFollowing(path) }
            let imageNamed = filter.isImageNamed(name)
            switch type {
            case UInt8(DT_DIR):
                if includeDirectories { entries.append(Entry(name: name, kind: .directory)) }
            case UInt8(DT_REG), UInt8(DT_UNKNOWN):  // unknown: vanished since listed, reported on open
                if imageNamed { entries.append(Entry(name: name, kind: .file)) }
            case UInt8(DT_LNK):
                guard imageNamed else { continue }
                switch typeFollowing(path) {
                case UInt8(DT_DIR): continue
                case UInt8(DT_REG), UInt8(DT_UNKNOWN): entries.append(Entry(name: name, kind: .file))  // unknown: dangling, reported on open
                default: entries.append(Entry(name: name, kind: .notRegularFile))
                }
            default:
                if imageNamed { entries.append(Entry(name: name, kind: .notRegularFile)) }
            }
        }
        return entries.map { (entry: $0, bytes: Array($0.name.utf8)) }
            .sorted { InputNaturalOrder.compare($0.bytes, $1.bytes) < 0 }
            .map(\.entry)
    }

    static let directoryType = UInt8(DT_DIR)
    static let regularFileType = UInt8(DT_REG)
    /// What `typeFollowing` answers for a path that cannot be examined (missing, dangling link, no permission).
    static let unknownType = UInt8(DT_UNKNOWN)

    static func typeWithoutFollowing(_ path: String) -> UInt8 {
        var status = stat()
        guard lstat(path, &status) == 0 else { return UInt8(DT_UNKNOWN) }
        return directoryEntryType(status.st_mode)
    }

    static func typeFollowing(_ path: String) -> UInt8 {
        var status = stat()
        guard stat(path, &status) == 0 else { return UInt8(DT_UNKNOWN) }
        return directoryEntryType(status.st_mode)
    }

    private static func directoryEntryType(_ mode: mode_t) -> UInt8 {
        switch mode & S_IFMT {
        case S_IFDIR: UInt8(DT_DIR)
        case S_IFREG: UInt8(DT_REG)
        case S_IFLNK: UInt8(DT_LNK)
        default: UInt8(DT_FIFO)  // any other special file; only "not regular" matters
        }
    }
}

/// Why a directory could not be listed (errno's text).
struct InputWalkProblem: Error, CustomStringConvertible {
    let code: Int32
    var description: String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
