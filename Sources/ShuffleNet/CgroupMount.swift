/// Where a cgroup hierarchy is mounted, from `/proc/self/mountinfo`: `root` is the part of the hierarchy the
/// mount shows (`/docker/abc` when a container sees only its own cgroup), `mountPoint` where it shows it.
package struct CgroupMount: Sendable, Equatable {
    package let root: String
    package let mountPoint: String

    package init(root: String, mountPoint: String) {
        self.root = root
        self.mountPoint = mountPoint
    }

    /// The cgroup2 mount.
    package static func v2(inMountInfo text: String) -> CgroupMount? {
        find(in: text) { fileSystem, _ in fileSystem == "cgroup2" }
    }

    /// The v1 mount whose controllers include `cpu` (often `cpu,cpuacct`).
    package static func v1CPU(inMountInfo text: String) -> CgroupMount? {
        find(in: text) { fileSystem, superOptions in
            fileSystem == "cgroup" && superOptions.split(separator: ",").contains("cpu")
        }
    }

    /// The directories of cgroup `path` (as `/proc/self/cgroup` gives it) and of its ancestors that this
    /// mount shows, innermost first, ending at the mount point. A path outside the mount's root (the
    /// container sees only its own subtree) gives just the mount point.
    package func directories(forCgroup path: String) -> [String] {
        let relative: Substring
        if root == "/" {
            relative = Substring(path)
        } else if path == root {
            relative = ""
        } else if path.hasPrefix(root + "/") {
            relative = path.dropFirst(root.count)
        } else {
            return [mountPoint]
        }
        var components = relative.split(separator: "/").map(String.init)
        var directories: [String] = []
        while true {
            directories.append(mountPoint + components.map { "/" + $0 }.joined())
            guard !components.isEmpty else { return directories }
            components.removeLast()
        }
    }

    /// mountinfo lines: `id parent major:minor root mount-point options [optional fields...] - type source
    /// super-options`; the optional fields vary in number, so the type is found after the lone "-".
    private static func find(in text: String, where matches: (Substring, Substring) -> Bool) -> CgroupMount? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 7, let dash = fields.firstIndex(of: "-"), dash >= 6, dash + 3 < fields.count else { continue }
            if matches(fields[dash + 1], fields[dash + 3]) {
                return CgroupMount(root: unescaped(fields[3]), mountPoint: unescaped(fields[4]))
            }
        }
        return nil
    }

    /// The kernel writes space, tab, newline and backslash in paths as octal escapes (`\040`).
    static func unescaped(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "\\"), i + 4 <= utf8.count,
               let value = UInt8(String(decoding: utf8[(i + 1)..<(i + 4)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
