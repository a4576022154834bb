/// The version of the shufflenet package, as `shufflenet --version` prints it.
///
/// It follows [Semantic Versioning](https://semver.org); `CHANGELOG.md` lists what each version changed.
public enum ShuffleNetLibrary {
    /// The version string, e.g. `"0.1.0-dev"`: a pre-release suffix until the version is tagged.
    public static let version = "0.1.0-dev"
}
