// Finds a verified local copy of a pinned checkpoint: first in mirror directories (used in place), then in the
// download cache (re-verified, since caches rot), and only then over HTTP. Every copy is checked against the
// pinned sha256, so a swapped or truncated file can never reach the network code that parses it.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One downloadable checkpoint, pinned by content. The manifest of default weights is a list of these.
public struct PinnedCheckpoint: Sendable, Equatable {
    /// The name the file has in mirror directories and in the cache, e.g. "megvii_ShuffleNetV1_0.5x_g3.pth.tar".
    public let fileName: String
    /// Pinned download URL (http or https).
    public let url: String
    /// Lowercase hex sha256 of the file.
    public let sha256: String
    /// Size in bytes, when known; only used to tell the user how big the download is.
    public let byteCount: Int?

    /// A pin; `fetch` checks it before any file is looked at.
    public init(fileName: String, url: String, sha256: String, byteCount: Int?) {
        self.fileName = fileName
        self.url = url
        self.sha256 = sha256
        self.byteCount = byteCount
    }
}

/// Why a pinned checkpoint could not be obtained. Every description names the file, URL or directory at fault.
public enum CheckpointFetchError: Error, CustomStringConvertible, Equatable {
    /// Words for the statuses a download is likely to meet.
    static let statusWords: [Int: String] = [
        400: "bad request", 401: "unauthorized", 403: "forbidden", 404: "not found", 408: "request timeout",
        410: "gone", 429: "too many requests", 500: "internal server error", 502: "bad gateway",
        503: "service unavailable", 504: "gateway timeout",
    ]

    /// The pin itself is malformed (file name with `/`, a hash that is not 64 hex digits, a URL that is not http(s)).
    case invalidPin(fileName: String, reason: String)
    /// A mirror holds a file of that name whose sha256 differs from the pin.
    case mirrorMismatch(path: String, actualSHA256: String, expectedSHA256: String)
    /// A local copy could not be read to verify it.
    case unreadable(path: String, reason: String)
    /// The cache directory cannot be created or written.
    case cacheUnwritable(directory: String, reason: String)
    /// The download failed before an HTTP answer (refused, timed out, DNS, TLS).
    case network(url: String, reason: String)
    /// The server answered with an HTTP error status.
    case httpStatus(url: String, statusCode: Int)
    /// The downloaded file's sha256 differs from the pin; the file was deleted.
    case downloadMismatch(url: String, actualSHA256: String, expectedSHA256: String)
    /// Downloads are off and no mirror or cache directory has the file.
    case offline(fileName: String, searchedDirectories: [String])

    public var description: String {
        switch self {
        case .invalidPin(let fileName, let reason):
            "pinned checkpoint \(fileName) is malformed: \(reason)"
        case .mirrorMismatch(let path, let actual, let expected):
            "mirror file \(path) has sha256 \(actual), expected \(expected); replace or remove it"
        case .unreadable(let path, let reason):
            "cannot read checkpoint \(path): \(reason)"
        case .cacheUnwritable(let directory, let reason):
            "cannot write to the checkpoint cache \(directory): \(reason); choose another cache directory"
        case .network(let url, let reason):
            "downloading \(url) failed: \(reason)"
        case .httpStatus(let url, let statusCode):
            "downloading \(url) failed: the server answered HTTP \(statusCode)"
                + (Self.statusWords[statusCode].map { " (\($0))" } ?? "")
        case .downloadMismatch(let url, let actual, let expected):
            "the file downloaded from \(url) has sha256 \(actual), expected \(expected); it was deleted"
        case .offline(let fileName, let searched):
            "checkpoint \(fileName) is not in "
                + (searched.isEmpty ? "any directory" : searched.joined(separator: ", "))
                + " and downloads are disabled (allowDownload: false or SHUFFLENET_OFFLINE=1); "
                + "put the file in a directory listed in SHUFFLENET_MIRROR"
        }
    }
}

/// Resolves a `PinnedCheckpoint` to the path of a local file whose sha256 matches the pin.
/// `fetch` blocks the calling thread while downloading; call it off the main actor in GUI code.
public struct CheckpointFetcher: Sendable {
    /// Searched in order for `fileName`; a match is used in place, never copied.
    public var mirrorDirectories: [String]
    /// Where downloads are kept. Created on first download.
    public var cacheDirectory: String
    /// Whether `fetch` may download when no mirror or cache has the file (`SHUFFLENET_OFFLINE` turns it off).
    public var allowDownload: Bool
    /// Seconds without any data before a download is abandoned.
    public var idleTimeout: TimeInterval = 30
    /// Seconds a whole download may take.
    public var totalTimeout: TimeInterval = 600
    /// Receives one line per step ("downloading ...", "verified sha256 ..."); the CLI prints them to stderr.
    public var log: @Sendable (String) -> Void

    /// A fetcher with explicit settings; `fromEnvironment` reads them the way the CLI does.
    public init(
        mirrorDirectories: [String] = [],
        cacheDirectory: String,
        allowDownload: Bool = true,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.mirrorDirectories = mirrorDirectories
        self.cacheDirectory = cacheDirectory
        self.allowDownload = allowDownload
        self.log = log
    }

    /// Settings the way the CLI wants them: explicit mirrors first, then `SHUFFLENET_MIRROR` (colon-separated);
    /// downloads off when the caller says so or `SHUFFLENET_OFFLINE` is 1/true/yes; the XDG cache by default.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        mirrorDirectories: [String] = [],
        cacheDirectory: String? = nil,
        allowDownload: Bool = true,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) -> CheckpointFetcher {
        let environmentMirrors = (environment["SHUFFLENET_MIRROR"] ?? "")
            .split(separator: ":", omittingEmptySubsequences: true).map(String.init)
        let offlineValue = (environment["SHUFFLENET_OFFLINE"] ?? "").lowercased()
        let offline = ["1", "true", "yes"].contains(offlineValue)
        return CheckpointFetcher(
            mirrorDirectories: (mirrorDirectories + environmentMirrors).map(expandingTilde),
            cacheDirectory: expandingTilde(cacheDirectory ?? defaultCacheDirectory(environment: environment)),
            allowDownload: allowDownload && !offline,
            log: log
        )
    }

    /// `$XDG_CACHE_HOME/shufflenet`, else `~/.cache/shufflenet`. The XDG spec says to ignore relative values.
    public static func defaultCacheDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("shufflenet")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.path
        return (home as NSString).appendingPathComponent(".cache/shufflenet")
    }

    private static func expandingTilde(_ path: String) -> String {
        (path as NSString).expandingTildeInPath
    }

    /// The path of a verified copy of `pin`: a mirror file, a cached download, or a fresh download.
    public func fetch(_ pin: PinnedCheckpoint) throws(CheckpointFetchError) -> String {
        let expected = try Self.validated(pin)
        for directory in mirrorDirectories {
            let path = (directory as NSString).appendingPathComponent(pin.fileName)
            guard Self.isRegularFile(path) else { continue }
            let actual = try Self.sha256(ofFileAt: path)
            guard actual == expected else {
                throw .mirrorMismatch(path: path, actualSHA256: actual, expectedSHA256: expected)
            }
            log("using mirror copy \(path) (sha256 verified)")
            return path
        }
        let cachedPath = (cacheDirectory as NSString).appendingPathComponent(pin.fileName)
        if Self.isRegularFile(cachedPath) {
            let actual = try Self.sha256(ofFileAt: cachedPath)
            if actual == expected {
                log("using cached copy \(cachedPath) (sha256 verified)")
                return cachedPath
            }
            // A damaged cache entry is ours to replace, unlike a mirror file which the user put there.
            log("cached copy \(cachedPath) has sha256 \(actual), expected \(expected): deleting it")
            try? FileManager.default.removeItem(atPath: cachedPath)
        }
        guard allowDownload else {
            throw .offline(fileName: pin.fileName, searchedDirectories: mirrorDirectories + [cacheDirectory])
        }
        return try download(pin, expectedSHA256: expected, to: cachedPath)
    }

    /// Downloads into a hidden temp file next to the destination, verifies it, then renames it into place, so a
    /// crash or a concurrent run never leaves a half-written file under the real name.
    private func download(
        _ pin: PinnedCheckpoint, expectedSHA256 expected: String, to destination: String
    ) throws(CheckpointFetchError) -> String {
        let temporaryPath = try makeTemporaryFile(for: pin.fileName)
        var keepTemporary = false
        defer { if !keepTemporary { try? FileManager.default.removeItem(atPath: temporaryPath) } }

        let size = pin.byteCount.map { " (" + Self.megabytes($0) + ")" } ?? ""
        log("downloading \(pin.url)\(size) into \(cacheDirectory)")
        let data = try BlockingHTTPGet(url: pin.url, idleTimeout: idleTimeout, totalTimeout: totalTimeout).run()
        do {
            try data.write(to: URL(fileURLWithPath: temporaryPath))
        } catch {
            throw .cacheUnwritable(directory: cacheDirectory, reason: Self.reason(error))
        }
        let actual = try Self.sha256(ofFileAt: temporaryPath)
        guard actual == expected else {
            throw .downloadMismatch(url: pin.url, actualSHA256: actual, expectedSHA256: expected)
        }
        log("downloaded \(Self.megabytes(data.count)), verified sha256 \(actual)")
        // rename(2) replaces an existing destination atomically; FileManager.moveItem would refuse instead.
        guard rename(temporaryPath, destination) == 0 else {
            throw .cacheUnwritable(directory: cacheDirectory, reason: String(cString: strerror(errno)))
        }
        keepTemporary = true
        log("saved \(destination)")
        return destination
    }

    /// Creating the temp file before touching the network makes an unwritable cache fail fast.
    private func makeTemporaryFile(for fileName: String) throws(CheckpointFetchError) -> String {
        let temporaryPath = (cacheDirectory as NSString)
            .appendingPathComponent(".\(fileName).partial-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: temporaryPath), options: .withoutOverwriting)
        } catch {
            throw .cacheUnwritable(directory: cacheDirectory, reason: Self.reason(error))
        }
        return temporaryPath
    }

    /// Checks the pin itself, so a typo in the manifest is reported as such and not as a checksum mismatch.
    /// Returns the expected hash in lowercase.
    private static func validated(_ pin: PinnedCheckpoint) throws(CheckpointFetchError) -> String {
        let name = pin.fileName
        if name.isEmpty || name == "." || name == ".." || name.contains("/") {
            throw .invalidPin(fileName: name, reason: "the file name must be a plain name without '/'")
        }
        let hash = pin.sha256.lowercased()
        if hash.count != 64 || !hash.allSatisfy(\.isHexDigit) {
            throw .invalidPin(fileName: name, reason: "sha256 '\(pin.sha256)' is not 64 hex digits")
        }
        guard let url = URL(string: pin.url), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
              url.host != nil
        else {
            throw .invalidPin(fileName: name, reason: "'\(pin.url)' is not an http(s) URL")
        }
        return hash
    }

    private static func sha256(ofFileAt path: String) throws(CheckpointFetchError) -> String {
        do {
            return try FileDigest.sha256Hex(ofFileAtPath: path)
        } catch {
            throw .unreadable(path: path, reason: error.description)
        }
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    private static func megabytes(_ byteCount: Int) -> String {
        String(format: "%.1f MB", Double(byteCount) / 1_000_000)
    }

    /// Foundation's file errors read "The operation could not be completed" on Linux; the POSIX error they wrap
    /// says what actually went wrong ("Not a directory", "Permission denied").
    private static func reason(_ error: any Error) -> String {
        let wrapped = error as NSError
        // On Linux the underlying error only casts to `any Error`, not directly to NSError.
        let underlying = (wrapped.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }
        let posix = [wrapped, underlying].compactMap { $0 }.first { $0.domain == NSPOSIXErrorDomain }
        if let posix { return String(cString: strerror(Int32(posix.code))) }
        return wrapped.localizedFailureReason ?? wrapped.localizedDescription
    }
}

/// One blocking GET through the `curl` command-line tool, which gives timeouts, redirects, TLS and the HTTP status.
/// Not URLSession: linking FoundationNetworking (and libcurl through it) costs every run of the tool about 10 MB of
/// memory at start-up, for a download that happens once per machine.
private struct BlockingHTTPGet {
    let url: String
    let idleTimeout: TimeInterval
    let totalTimeout: TimeInterval

    func run() throws(CheckpointFetchError) -> Data {
        guard let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw .network(url: url, reason: "malformed URL (only http and https are fetched)")
        }
        guard let curl = Self.executable(named: "curl") else {
            throw .network(url: url, reason: "downloading needs the curl command (apt-get install curl); "
                           + "or put the file in a mirror directory yourself")
        }
        let target = FileManager.default.temporaryDirectory
            .appendingPathComponent("shufflenet-download-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: target) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: curl)
        let idle = String(max(1, Int(idleTimeout.rounded(.up))))
        process.arguments = [
            "--silent", "--show-error", "--location", "--max-redirs", "10", "--proto", "=http,https",
            "--connect-timeout", idle, "--speed-limit", "1", "--speed-time", idle,
            "--max-time", String(max(1, Int(totalTimeout.rounded(.up)))),
            "--output", target, "--write-out", "%{http_code}", "--", url,
        ]
        let statusPipe = Pipe(), messagePipe = Pipe()
        process.standardOutput = statusPipe
        process.standardError = messagePipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .network(url: url, reason: "cannot run \(curl): \(error.localizedDescription)")
        }
        // curl writes a few bytes to each pipe (the status code, a one-line message), far below a pipe's buffer,
        // so reading after the exit cannot block it.
        process.waitUntilExit()
        let status = Int(String(decoding: statusPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) ?? 0
        let message = String(decoding: messagePipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let exit = process.terminationStatus
        if exit == 0, status >= 300 { throw .httpStatus(url: url, statusCode: status) }
        guard exit == 0, (200..<300).contains(status) else {
            throw .network(url: url, reason: describe(curlExit: exit, message: message))
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: target))
        } catch {
            throw .network(url: url, reason: "cannot read the downloaded file: \(error.localizedDescription)")
        }
    }

    /// Words for curl's common exit codes (`man curl`, EXIT CODES), with its own message after them.
    private func describe(curlExit code: Int32, message: String) -> String {
        let words: String? = switch code {
        case 6: "cannot resolve the host name"
        case 7: "cannot connect to the host (connection refused?)"
        case 28: "timed out (limits: \(Int(idleTimeout)) s without data, \(Int(totalTimeout)) s in all)"
        case 35, 51, 58, 59, 60, 77, 83, 90, 91: "TLS connection failed"
        case 47: "too many redirects"
        case 52: "the server sent nothing"
        case 55, 56: "the connection was lost"
        default: nil
        }
        let detail = message.isEmpty ? "curl exit \(code)" : "\(message), curl exit \(code)"
        return words.map { "\($0) (\(detail))" } ?? detail
    }

    /// The first executable `name` on PATH.
    private static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
