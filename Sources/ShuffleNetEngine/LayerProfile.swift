import Foundation

/// Accumulates time per layer over many runs, for `shufflenet bench --per-layer`. Only touched when a
/// profile is passed to `ShuffleNetModel.run`, so the normal path pays nothing.
package final class LayerProfile: @unchecked Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        case stem = "conv1 + max pool"
        case pointwise = "1x1 group conv"
        case depthwise = "3x3 depthwise conv"
        case pool = "pooling"
        case classifier = "classifier"
    }
    package struct Entry: Sendable {
        package let name: String
        package let kind: Kind
        package var nanoseconds: UInt64
    }

    package private(set) var entries: [Entry] = []
    package private(set) var runs = 0
    private var index = 0
    private var last: UInt64 = 0

    package init() {}

    func start() {
        index = 0
        runs += 1
        last = DispatchTime.now().uptimeNanoseconds
    }

    func record(_ name: @autoclosure () -> String, kind: Kind) {
        let now = DispatchTime.now().uptimeNanoseconds
        if index == entries.count { entries.append(Entry(name: name(), kind: kind, nanoseconds: 0)) }
        entries[index].nanoseconds += now - last
        index += 1
        last = now
    }

    /// Milliseconds per run for each kind of operation.
    package var millisecondsByKind: [(kind: Kind, milliseconds: Double)] {
        Kind.allCases.map { kind in
            (kind, Double(entries.filter { $0.kind == kind }.map(\.nanoseconds).reduce(0, +)) / Double(max(runs, 1)) / 1e6)
        }
    }
}
