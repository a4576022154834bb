// CheckpointFetcher against mirror folders and a loopback HTTP server started by each test. Served files are
// FIPS 180-2 test messages, so every expected sha256 is a published vector, not something this code computed.
// Only 127.0.0.1 is ever contacted.
import Foundation
import SharedTestData
import ShuffleNet
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CheckpointFetcherTests {
    /// The pin every test fetches: one million 'a' under a checkpoint-like name.
    private static func pin(url: String = "http://127.0.0.1:9/unused", sha256: String = FIPSVectors.millionADigest)
        -> PinnedCheckpoint
    {
        PinnedCheckpoint(fileName: "tiny.pth.tar", url: url, sha256: sha256, byteCount: 1_000_000)
    }

    // MARK: mirrors

    @Test func mirrorHitIsUsedInPlace() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let emptyMirror = try root.makeSubdirectory("empty-mirror")
        let mirror = try root.makeSubdirectory("mirror")
        let mirrored = try root.write("mirror/tiny.pth.tar", FIPSVectors.millionA)
        let log = LogRecorder()
        let fetcher = CheckpointFetcher(
            mirrorDirectories: [emptyMirror, mirror], cacheDirectory: root.path + "/cache", allowDownload: false,
            log: log.append)

        #expect(try fetcher.fetch(Self.pin()) == mirrored)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/cache"), "a mirror hit must not copy")
        #expect(log.lines.contains { $0.contains("mirror") && $0.contains("verified") })
    }

    @Test func mirrorFileWithWrongContentIsAnError() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let mirror = try root.makeSubdirectory("mirror")
        let wrong = try root.write("mirror/tiny.pth.tar", Array("abc".utf8))
        let fetcher = CheckpointFetcher(mirrorDirectories: [mirror], cacheDirectory: root.path + "/cache")

        let error = #expect(throws: CheckpointFetchError.self) { try fetcher.fetch(Self.pin()) }
        #expect(error == .mirrorMismatch(
            path: wrong, actualSHA256: FIPSVectors.abc, expectedSHA256: FIPSVectors.millionADigest))
        #expect(error?.description.contains("mirror file \(wrong) has sha256 \(FIPSVectors.abc)") == true)
    }

    /// The real Megvii checkpoint, with the sha256 recorded in SOURCES.md, found through SHUFFLENET_MIRROR.
    @Test(.enabled(if: FetchTestSharedData.weightsDirectory != nil, FetchTestSharedData.skipMessage))
    func sharedWeightsFolderWorksAsMirror() throws {
        let weights = try #require(FetchTestSharedData.weightsDirectory)
        let pin = PinnedCheckpoint(
            fileName: "megvii_ShuffleNetV1_0.5x_g3.pth.tar", url: "http://127.0.0.1:9/never-contacted",
            sha256: FetchTestSharedData.g3SHA256, byteCount: 2_977_667)
        let fetcher = CheckpointFetcher.fromEnvironment(
            ["SHUFFLENET_MIRROR": "/nonexistent:" + weights, "SHUFFLENET_OFFLINE": "1", "HOME": "/nonexistent"])
        #expect(try fetcher.fetch(pin) == weights + "/megvii_ShuffleNetV1_0.5x_g3.pth.tar")
    }

    // MARK: downloads

    @Test func downloadLandsInCacheThenCacheIsUsedWithoutNetwork() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let server = try LoopbackHTTPServer(files: ["/weights/tiny.pth.tar": FIPSVectors.millionA])
        defer { server.stop() }  // idempotent; covers an early throw before the explicit stop below
        let cache = root.path + "/cache/nested"
        let log = LogRecorder()
        let fetcher = CheckpointFetcher(cacheDirectory: cache, log: log.append)
        let pin = Self.pin(url: server.url("/weights/tiny.pth.tar"))

        let path = try fetcher.fetch(pin)
        server.stop()
        #expect(path == cache + "/tiny.pth.tar")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(FIPSVectors.millionA))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache) == ["tiny.pth.tar"], "no temp files left")
        #expect(server.requestedPaths == ["/weights/tiny.pth.tar"])
        #expect(log.lines.contains { $0.hasPrefix("downloading \(pin.url) (1.0 MB)") })
        #expect(log.lines.contains { $0.contains("verified sha256 \(FIPSVectors.millionADigest)") })

        // The server is gone: success now proves the cached copy was used.
        let again = CheckpointFetcher(cacheDirectory: cache, log: log.append)
        #expect(try again.fetch(pin) == path)
        #expect(log.lines.last?.hasPrefix("using cached copy") == true)
    }

    @Test func corruptedCacheIsReplacedByAFreshDownload() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        _ = try root.makeSubdirectory("cache")
        let cached = try root.write("cache/tiny.pth.tar", Array("abc".utf8))
        let server = try LoopbackHTTPServer(files: ["/tiny.pth.tar": FIPSVectors.millionA])
        defer { server.stop() }
        let log = LogRecorder()
        let fetcher = CheckpointFetcher(cacheDirectory: root.path + "/cache", log: log.append)

        #expect(try fetcher.fetch(Self.pin(url: server.url("/tiny.pth.tar"))) == cached)
        #expect(try Data(contentsOf: URL(fileURLWithPath: cached)) == Data(FIPSVectors.millionA))
        #expect(log.lines.contains { $0.contains("has sha256 \(FIPSVectors.abc)") && $0.contains("deleting") })
    }

    @Test func downloadWithWrongChecksumIsDeleted() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let server = try LoopbackHTTPServer(files: ["/tiny.pth.tar": Array("abc".utf8)])
        defer { server.stop() }
        let cache = root.path + "/cache"
        let pin = Self.pin(url: server.url("/tiny.pth.tar"))

        let error = #expect(throws: CheckpointFetchError.self) {
            try CheckpointFetcher(cacheDirectory: cache).fetch(pin)
        }
        #expect(error == .downloadMismatch(
            url: pin.url, actualSHA256: FIPSVectors.abc, expectedSHA256: FIPSVectors.millionADigest))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).isEmpty)
    }

    @Test func missingFileOnServerIsAnHTTPStatusError() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let server = try LoopbackHTTPServer(files: [:])
        defer { server.stop() }
        let cache = root.path + "/cache"
        let pin = Self.pin(url: server.url("/missing.pth.tar"))

        let error = #expect(throws: CheckpointFetchError.self) {
            try CheckpointFetcher(cacheDirectory: cache).fetch(pin)
        }
        #expect(error == .httpStatus(url: pin.url, statusCode: 404))
        #expect(error?.description.contains("HTTP 404") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache).isEmpty)
    }

    @Test func refusedConnectionIsAQuickNetworkError() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let closedPort = try ReservedLoopbackPort()
        defer { closedPort.release() }
        let pin = Self.pin(url: "http://127.0.0.1:\(closedPort.port)/tiny.pth.tar")

        let started = ContinuousClock.now
        let error = #expect(throws: CheckpointFetchError.self) {
            try CheckpointFetcher(cacheDirectory: root.path + "/cache").fetch(pin)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        guard case .network(let url, let reason) = error else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(url == pin.url)
        #expect(!reason.isEmpty)
    }

    @Test func silentServerHitsTheIdleTimeout() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let server = try LoopbackHTTPServer(files: [:], silentPaths: ["/slow.pth.tar"])
        defer { server.stop() }
        var fetcher = CheckpointFetcher(cacheDirectory: root.path + "/cache")
        fetcher.idleTimeout = 1
        let pin = Self.pin(url: server.url("/slow.pth.tar"))

        let started = ContinuousClock.now
        let error = #expect(throws: CheckpointFetchError.self) { try fetcher.fetch(pin) }
        #expect(ContinuousClock.now - started < .seconds(10))
        guard case .network(_, let reason) = error else {
            Issue.record("expected a network error, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("timed out"))
    }

    // MARK: refusals before any network access

    @Test func offlineWithoutMirrorOrCacheIsAnError() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let fetcher = CheckpointFetcher.fromEnvironment(
            ["SHUFFLENET_OFFLINE": "1", "XDG_CACHE_HOME": root.path + "/xdg"], mirrorDirectories: [root.path])

        let error = #expect(throws: CheckpointFetchError.self) { try fetcher.fetch(Self.pin()) }
        #expect(error == .offline(
            fileName: "tiny.pth.tar", searchedDirectories: [root.path, root.path + "/xdg/shufflenet"]))
        #expect(error?.description.contains("SHUFFLENET_OFFLINE") == true)
    }

    /// A regular file where the cache directory should be: unwritable even for root, unlike chmod.
    @Test func unwritableCacheIsReportedBeforeDownloading() throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        _ = try root.write("not-a-directory", [1])
        let server = try LoopbackHTTPServer(files: ["/tiny.pth.tar": FIPSVectors.millionA])
        defer { server.stop() }
        let cache = root.path + "/not-a-directory/cache"

        let error = #expect(throws: CheckpointFetchError.self) {
            try CheckpointFetcher(cacheDirectory: cache).fetch(Self.pin(url: server.url("/tiny.pth.tar")))
        }
        guard case .cacheUnwritable(let directory, let reason) = error else {
            Issue.record("expected cacheUnwritable, got \(String(describing: error))")
            return
        }
        #expect(directory == cache)
        #expect(reason == "Not a directory", "the POSIX reason, not Foundation's generic text")
        #expect(server.requestedPaths.isEmpty)
    }

    /// A path-escaping name, a truncated hash, a non-HTTP URL.
    @Test(arguments: [
        ("../escape.pth", "http://127.0.0.1:9/x", FIPSVectors.abc),
        ("a.pth", "http://127.0.0.1:9/x", "abc123"),
        ("a.pth", "file:///etc/passwd", FIPSVectors.abc),
    ].map { PinnedCheckpoint(fileName: $0.0, url: $0.1, sha256: $0.2, byteCount: nil) })
    func malformedPinsAreRejected(pin: PinnedCheckpoint) throws {
        let root = try FetchTestDirectory()
        defer { root.remove() }
        let error = #expect(throws: CheckpointFetchError.self) {
            try CheckpointFetcher(cacheDirectory: root.path).fetch(pin)
        }
        guard case .invalidPin = error else {
            Issue.record("expected invalidPin, got \(String(describing: error))")
            return
        }
    }

    // MARK: settings

    @Test func environmentSettings() {
        let fetcher = CheckpointFetcher.fromEnvironment(
            ["SHUFFLENET_MIRROR": "/m1::/m2", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"],
            mirrorDirectories: ["/first"])
        #expect(fetcher.mirrorDirectories == ["/first", "/m1", "/m2"])
        #expect(fetcher.cacheDirectory == "/xdg/shufflenet")
        #expect(fetcher.allowDownload)

        let relativeXDG = CheckpointFetcher.fromEnvironment(["XDG_CACHE_HOME": "relative", "HOME": "/home/u"])
        #expect(relativeXDG.cacheDirectory == "/home/u/.cache/shufflenet")
        #expect(CheckpointFetcher.fromEnvironment(["SHUFFLENET_OFFLINE": "0"]).allowDownload)
        #expect(!CheckpointFetcher.fromEnvironment(["SHUFFLENET_OFFLINE": "true"]).allowDownload)
        #expect(!CheckpointFetcher.fromEnvironment([:], allowDownload: false).allowDownload)
        #expect(CheckpointFetcher.fromEnvironment([:], cacheDirectory: "/c").cacheDirectory == "/c")
    }
}

// MARK: - helpers

/// Collects log lines; the fetcher may call the logger from any thread.
final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []

    var lines: [String] { lock.withLock { recorded } }

    var append: @Sendable (String) -> Void {
        { [self] line in lock.withLock { recorded.append(line) } }
    }
}

/// A fresh directory under the system temp folder, removed by `remove()`.
struct FetchTestDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("shufflenet-fetch-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func makeSubdirectory(_ name: String) throws -> String {
        let subdirectory = path + "/" + name
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: true)
        return subdirectory
    }

    func write(_ relativePath: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + relativePath
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The shared checkpoints, located by the `SharedTestData` target.
enum FetchTestSharedData {
    /// From SOURCES.md in the shared folder.
    static let g3SHA256 = "da5df689f1d8f278fd1446e73f3a63aa7809206fadc6678bfd7580aad412abde"
    static let skipMessage = Comment(rawValue: SharedTestData.skipMessage)
    static let weightsDirectory = SharedTestData.weightsDirectory
}

/// A TCP port on 127.0.0.1 that is bound but not listening, so connecting to it is refused at once.
/// Keeping it bound stops anything else from taking the port during the test.
struct ReservedLoopbackPort {
    let port: UInt16
    private let socketDescriptor: Int32

    init() throws {
        (socketDescriptor, port) = try LoopbackSocket.bound()
    }

    func release() {
        close(socketDescriptor)
    }
}

enum LoopbackSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A TCP socket bound to 127.0.0.1 on a port the kernel picks (so tests never collide), and that port.
    static func bound() throws -> (Int32, UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "binding to 127.0.0.1 failed: \(reason)")
        }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }
}

/// The smallest HTTP/1.0 server the download tests need: GET of fixed in-memory files on 127.0.0.1, 404 for
/// anything else, one connection at a time on a background thread. Records the paths requested.
/// Requests for `silentPaths` get no answer at all until the server stops, to provoke a client timeout.
final class LoopbackHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let files: [String: [UInt8]]
    private let silentPaths: Set<String>
    private let lock = NSLock()
    private var stopRequested = false
    private var requested: [String] = []
    private let loopExited = DispatchSemaphore(value: 0)

    init(files: [String: [UInt8]], silentPaths: Set<String> = []) throws {
        self.files = files
        self.silentPaths = silentPaths
        (listener, port) = try LoopbackSocket.bound()
        guard listen(listener, 16) == 0 else {
            close(listener)
            throw LoopbackSocket.Failure(description: "listen(): \(String(cString: strerror(errno)))")
        }
        Thread { [self] in serve() }.start()
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    var requestedPaths: [String] { lock.withLock { requested } }

    /// Idempotent: the loop notices the flag within one poll interval, then the listening socket is closed.
    func stop() {
        let alreadyStopped = lock.withLock { () -> Bool in
            defer { stopRequested = true }
            return stopRequested
        }
        guard !alreadyStopped else { return }
        loopExited.wait()
        close(listener)
    }

    private func serve() {
        defer { loopExited.signal() }
        // Polling with a short timeout rather than blocking in accept(): closing a socket does not reliably
        // wake a thread blocked on it.
        while !lock.withLock({ stopRequested }) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            respond(on: client)
            close(client)
        }
    }

    private func respond(on client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 65536, !request.ends(with: Array("\r\n\r\n".utf8)) {
            let received = recv(client, &buffer, buffer.count, 0)
            guard received > 0 else { break }
            request.append(contentsOf: buffer[0..<received])
        }
        // Request line: "GET /path HTTP/1.1".
        let requestLine = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = requestLine.split(separator: " ")
        let path = parts.count >= 2 ? String(parts[1]) : ""
        lock.withLock { requested.append(path) }
        if silentPaths.contains(path) {
            while !lock.withLock({ stopRequested }) { usleep(20_000) }
            return
        }

        let body = files[path]
        let status = body == nil ? "404 Not Found" : "200 OK"
        let payload = body ?? Array("not found\n".utf8)
        let header = "HTTP/1.0 \(status)\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        sendAll(Array(header.utf8) + payload, to: client)
    }

    private func sendAll(_ bytes: [UInt8], to client: Int32) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return }
            offset += sent
        }
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
