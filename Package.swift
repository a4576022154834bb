// swift-tools-version:6.0
// ShuffleNet v1 image classifier: C decoding shims -> image preprocessing -> engine -> CLI.
import PackageDescription

let package = Package(
    name: "shufflenet",
    products: [
        .executable(name: "shufflenet", targets: ["ShuffleNetCLI"]),
        // Everything another Swift program needs to embed the classifier (`import ShuffleNet` is enough).
        .library(name: "ShuffleNet", targets: ["ShuffleNet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 of downloaded checkpoints. A range over both major versions, so that a dependent already on
        // swift-crypto 3 or 4 resolves with us.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // `swift package generate-documentation --target ShuffleNet` (the DocC catalog in Sources/ShuffleNet).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // libjpeg-turbo and libpng behind a tiny C API (plus zlib for compressed PNG metadata).
        // setjmp-based error handling must live in C.
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("z")]
        ),
        // Decoding to 8-bit RGB and the resize / crop / normalisation the weights expect.
        .target(name: "ShuffleNetImage", dependencies: ["CImageCodecs"]),
        // Reader for PyTorch's torch.save files (legacy pickle stream and zip), no Python needed.
        .target(name: "TorchCheckpoint"),
        // The hot kernels in C: CPU features probed at run time, per-operator micro-kernel configurations chosen from
        // them (AVX-512F, AVX2+FMA, portable), one driver per operator, micro-kernels from per-family templates; so
        // dependents get full speed without any -target-cpu flag.
        .target(name: "CKernels"),
        // Network plan, safetensors weights, kernels. Knows nothing about images or files on disk beyond weights.
        .target(name: "ShuffleNetEngine", dependencies: ["CKernels"]),
        // The embeddable classifier: labels, default weights, checkpoint conversion. Re-exports ShuffleNetEngine and
        // ShuffleNetImage (Sources/ShuffleNet/Exports.swift), whose types its signatures use.
        .target(
            name: "ShuffleNet",
            dependencies: [
                "ShuffleNetImage", "ShuffleNetEngine", "TorchCheckpoint",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Batch classification over files for the CLI: input walking (directories, stdin lists), shards, resume
        // logs, output records, the decode/inference pipeline, CPU counting, the benchmark. Not a product: it is
        // the commands' plumbing, not an API for embedders, and the commands (classify, and those reusing its
        // input handling) import it.
        .target(name: "ShuffleNetBatch", dependencies: ["ShuffleNet"]),
        // Thin CLI: maps arguments to configurations, one file per command.
        .executableTarget(
            name: "ShuffleNetCLI",
            dependencies: [
                "ShuffleNet", "ShuffleNetBatch", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ImageTests", dependencies: ["ShuffleNetImage"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TorchCheckpointTests", dependencies: ["TorchCheckpoint", "SharedTestData"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EngineTests", dependencies: ["ShuffleNetEngine"]),
        .testTarget(name: "ShuffleNetTests", dependencies: ["ShuffleNet", "ShuffleNetBatch", "SharedTestData"]),
        // Locates the shared data and reference outputs that some tests use when present.
        .target(name: "SharedTestData", path: "Tests/SharedTestData"),
    ]
)
