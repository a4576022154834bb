/// Which cgroups the process is in, from `/proc/self/cgroup`: lines `hierarchy-id:controllers:path`, where
/// the v2 line is `0::/path` and a v1 line lists its controllers (`4:cpu,cpuacct:/docker/abc`).
package struct CgroupMembership: Sendable, Equatable {
    /// The path in the v2 hierarchy, nil on v1-only systems.
    package let v2Path: String?
    /// The path in the v1 hierarchy that has the `cpu` controller, nil without one.
    package let v1CPUPath: String?

    package init(procSelfCgroup text: String) {
        var v2Path: String?, v1CPUPath: String?
        for line in text.split(separator: "\n") {
            // The path may itself contain ':', so split only twice.
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[2].hasPrefix("/") else { continue }
            if fields[0] == "0", fields[1].isEmpty {
                v2Path = String(fields[2])
            } else if fields[1].split(separator: ",").contains("cpu") {
                v1CPUPath = String(fields[2])
            }
        }
        self.v2Path = v2Path
        self.v1CPUPath = v1CPUPath
    }
}
