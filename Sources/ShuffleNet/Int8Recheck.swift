import ShuffleNetEngine

/// When an int8 answer is recomputed with fp32 activations before it is given.
///
/// 8-bit activations move the gap between the top two logits by a few tenths, and on the photos where fp32's own
/// gap is smaller than that, int8 can swap the two classes. No post-training choice within 8 bits removed those
/// swaps at int8 speed (`Scripts/int8_study.md`, sections 8-10), but int8's own logits show which photos are at
/// risk: every swap seen had an int8 gap below 0.75, most below 0.2 (section 11). So an int8 answer whose top-two
/// gap is below `margin` is computed again by the fp32 network's own weights at 16 bits, which `shufflenet
/// quantize` stores in the int8 file (`RecheckWeights`, `ShuffleNetModel(rechecking:)`). An int8 file without
/// them is never rechecked; fp32 weights neither.
///
/// At the default 0.2, 8-14% of photos are recomputed and int8's top-1 equals fp32's on 96-98% of photos it was
/// not calibrated on, against 90-96% without (0.5x g3 and g8; README, "int8"), for about 0.58 instead of 0.47 ms
/// of network time per photo at 0.5x g3 (fp32: about 0.89 ms).
public struct Int8Recheck: Sendable, Equatable, CustomStringConvertible {
    /// The top-two logit gap (natural-log odds between the two most probable classes) below which an int8 answer
    /// is recomputed; 0 turns rechecking off.
    public let margin: Float

    /// The default: `margin` 0.2.
    public static let standard = Int8Recheck(margin: 0.2)
    /// Every int8 answer is int8's own.
    public static let off = Int8Recheck(margin: 0)

    /// A margin of at least 0 (a negative, infinite or NaN margin is treated as 0: off).
    public init(margin: Float) {
        self.margin = margin.isFinite && margin > 0 ? margin : 0
    }

    /// Whether rechecking can happen at all.
    public var isEnabled: Bool { margin > 0 }

    /// Whether `logits` (int8's) have their two largest values closer than `margin`.
    public func isNearTie(_ logits: UnsafeBufferPointer<Float>) -> Bool {
        guard isEnabled, logits.count >= 2 else { return false }
        var first = -Float.infinity, second = -Float.infinity
        for v in logits {
            if v > first {
                second = first
                first = v
            } else if v > second {
                second = v
            }
        }
        return first - second < margin
    }

    /// "margin 0.2", or "off".
    public var description: String { isEnabled ? "margin \(margin)" : "off" }
}
