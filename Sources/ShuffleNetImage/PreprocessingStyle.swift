/// Which preprocessing a set of weights was trained with. Stored as metadata next to the weights,
/// because feeding a network the other convention silently costs accuracy instead of failing.
public enum PreprocessingStyle: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Megvii's ShuffleNet-Series eval pipeline: OpenCV bilinear resize of the short side to 256
    /// (long side `int(256 / short * long + 0.5)`), centre crop 224, **BGR** planes, raw 0...255,
    /// no mean/std.
    case megvii
    /// torchvision's ImageNet recipe: Pillow bilinear (antialiased) `Resize(256)` (long side
    /// `int(256 * long / short)`), `CenterCrop(224)`, RGB planes, `/255`, then ImageNet mean/std.
    case torchvision

    public var description: String { rawValue }
}
