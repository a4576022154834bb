# Shared by the scripts in this folder: where things are and how the package is built.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Release builds (debug builds are 10-100x slower). The hot kernels are C, compiled for AVX-512F, AVX2+FMA and
# portable code and picked at run time, so no flag is needed for speed; -target-cpu native only helps the little
# Swift SIMD code left (e.g. the global average pool). quickstart and compare-runtimes build with it; the tests
# build without it (SWIFT_TEST_FLAGS), the way a package that depends on this one builds it.
SWIFT_BUILD_FLAGS=(-c release -Xswiftc -target-cpu -Xswiftc native)
SWIFT_TEST_FLAGS=(-c release)
# The project's data that may not be committed (checkpoints, photos), when it sits beside the clone.
SHARED_DATA="${SHUFFLENET_SHARED_DATA:-$(cd "$ROOT/.." && pwd)/shared/data/shufflenet_v1}"

log() { printf '==> %s\n' "$*" >&2; }
