import Foundation
import ShuffleNetBatch

/// `done/total`, rate and ETA on one stderr line, redrawn at most ten times a second. The total comes
/// from a counting walk running beside the classification (or never, for stdin), so until it is known
/// the bar shows the count and the rate only.
final class ProgressBar: @unchecked Sendable {
    enum Mode: String, CaseIterable {
        case auto, always, never
    }

    let isEnabled: Bool
    private let lock = NSLock()
    private var total: Int?
    private var done = 0
    private var failed = 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var drawn = false

    /// `auto`: only when stderr is a terminal (so logs of batch jobs stay clean).
    init(mode: Mode, quiet: Bool) {
        switch mode {
        case .never: isEnabled = false
        case .always: isEnabled = !quiet
        case .auto: isEnabled = !quiet && isatty(STDERR_FILENO) == 1
        }
    }

    func setTotal(_ count: Int) {
        lock.lock()
        total = count
        lock.unlock()
    }

    /// Gives the bar its total from a second, name-only walk of the same inputs on a thread of its own (so the
    /// list is never held), when the bar is shown and the inputs can be walked twice (not stdin).
    func countInBackground(_ makeInputs: () -> BatchInputs) {
        let counter = makeInputs()
        guard isEnabled, counter.isRepeatable else { return }
        Thread { [self] in
            var count = 0
            while counter.next() != nil { count += 1 }
            setTotal(count)
        }.start()
    }

    func advance(failed isFailure: Bool) {
        guard isEnabled else { return }
        lock.lock()
        defer { lock.unlock() }
        done += 1
        if isFailure { failed += 1 }
        let now = DispatchTime.now().uptimeNanoseconds
        if now - lastDraw >= 100_000_000 {
            lastDraw = now
            draw(now)
        }
    }

    /// Prints a message on its own line without tearing the bar.
    func note(_ message: String) {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        FileHandle.standardError.write(Data("shufflenet: \(message)\n".utf8))
        if drawn { draw(DispatchTime.now().uptimeNanoseconds) }
    }

    /// Call before a row goes to stdout when stdout is the same terminal: the row must not land after the bar
    /// on its line. The next `advance` draws the bar again below the row.
    func clearForOutput() {
        guard isEnabled else { return }
        lock.lock()
        defer { lock.unlock() }
        if drawn {
            FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
            drawn = false
            lastDraw = 0
        }
    }

    /// Removes the bar so that the summary line starts clean.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        drawn = false
    }

    private func draw(_ now: UInt64) {
        let seconds = Double(now - start) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var line = ""
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 24
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            line += "\(done)/\(total) \(String(format: "%3.0f%%", fraction * 100))"
            line += String(format: "  %.1f files/s", rate)
            if rate > 0 { line += "  ETA " + Self.clock(Double(max(0, total - done)) / rate) }
        } else {
            line += "\(done) file\(done == 1 ? "" : "s")" + String(format: "  %.1f files/s", rate) + (total == nil ? "  (counting)" : "")
        }
        if failed > 0 { line += "  \(failed) error\(failed == 1 ? "" : "s")" }
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
        drawn = true
    }

    /// `1:02:03` or `2:03`.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }
}
