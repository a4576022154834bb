# Shared by the scripts in this folder: where things are and how the package is built.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Release build with the CPU's own vector instructions: without -target-cpu, SIMD multiply-adds become
# library calls (about 100x slower), and debug builds are 10-100x slower again.
SWIFT_BUILD_FLAGS=(-c release -Xswiftc -target-cpu -Xswiftc native)
# The project's data that may not be committed (checkpoints, photos), when it sits beside the clone.
SHARED_DATA="${SHUFFLENET_SHARED_DATA:-$(cd "$ROOT/.." && pwd)/shared/data/shufflenet_v1}"

log() { printf '==> %s\n' "$*" >&2; }
