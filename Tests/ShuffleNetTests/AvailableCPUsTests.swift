import ShuffleNet
import ShuffleNetBatch
import Testing

/// The default thread count: affinity and cgroup quota, each file parsed from hand-written text.
@Suite struct AvailableCPUsTests {
    @Test func cpuMaxParses() throws {
        #expect(try CgroupCPUQuota.parseCPUMax("max 100000\n") == .unlimited)
        #expect(try CgroupCPUQuota.parseCPUMax("max") == .unlimited)
        #expect(try CgroupCPUQuota.parseCPUMax("200000 100000\n") == .limited(quota: 200000, period: 100000))
        for bad in ["", "\n", "abc 100000", "100000", "0 100000", "-5 100000", "50000 0", "max 0", "1 2 3", "max x"] {
            #expect(throws: CgroupParseError.malformed(file: "cpu.max", text: bad)) { try CgroupCPUQuota.parseCPUMax(bad) }
        }
    }

    @Test func cfsQuotaParses() throws {
        #expect(try CgroupCPUQuota.parseCFS(quota: "-1\n", period: "100000\n") == .unlimited)
        #expect(try CgroupCPUQuota.parseCFS(quota: "150000\n", period: "100000\n") == .limited(quota: 150000, period: 100000))
        #expect(throws: CgroupParseError.malformed(file: "cpu.cfs_quota_us", text: "lots")) {
            try CgroupCPUQuota.parseCFS(quota: "lots", period: "100000")
        }
        #expect(throws: CgroupParseError.malformed(file: "cpu.cfs_period_us", text: "0\n")) {
            try CgroupCPUQuota.parseCFS(quota: "50000", period: "0\n")
        }
    }

    @Test func quotaRoundsUpToWholeCPUs() {
        #expect(CgroupCPUQuota.limited(quota: 100000, period: 100000).cpus == 1)
        #expect(CgroupCPUQuota.limited(quota: 150000, period: 100000).cpus == 2)
        #expect(CgroupCPUQuota.limited(quota: 10000, period: 100000).cpus == 1)
        #expect(CgroupCPUQuota.limited(quota: 400000, period: 100000).cpus == 4)
        #expect(CgroupCPUQuota.unlimited.cpus == nil)
    }

    @Test func membershipFindsTheV2PathAndTheV1CPUController() {
        let hybrid = "9:name=systemd:/\n4:memory:/job\n2:cpu,cpuacct:/docker/abc\n0::/user.slice\n"
        #expect(CgroupMembership(procSelfCgroup: hybrid) == CgroupMembership(procSelfCgroup: "2:cpu,cpuacct:/docker/abc\n0::/user.slice"))
        let parsed = CgroupMembership(procSelfCgroup: hybrid)
        #expect(parsed.v2Path == "/user.slice" && parsed.v1CPUPath == "/docker/abc")
        // cpuacct and cpuset alone are not the cpu controller; a path with ':' is kept whole.
        let v1 = CgroupMembership(procSelfCgroup: "3:cpuset:/a\n2:cpuacct:/b\n1:cpu:/c:d\n")
        #expect(v1.v2Path == nil && v1.v1CPUPath == "/c:d")
        let garbage = CgroupMembership(procSelfCgroup: "nonsense\n\n0::\n")
        #expect(garbage.v2Path == nil && garbage.v1CPUPath == nil)
    }

    static let hybridMountInfo = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        41 31 0:38 / /sys/fs/cgroup/unified\\040dir rw,relatime shared:5 master:1 - cgroup2 cgroup2 rw
        """

    @Test func mountsComeFromMountInfo() {
        #expect(CgroupMount.v1CPU(inMountInfo: Self.hybridMountInfo) == CgroupMount(root: "/docker/abc", mountPoint: "/sys/fs/cgroup/cpu,cpuacct"))
        #expect(CgroupMount.v2(inMountInfo: Self.hybridMountInfo) == CgroupMount(root: "/", mountPoint: "/sys/fs/cgroup/unified dir"))
        #expect(CgroupMount.v2(inMountInfo: "") == nil)
        #expect(CgroupMount.v1CPU(inMountInfo: "34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\nbroken line") == nil)
    }

    @Test func directoriesWalkUpToTheMountPoint() {
        let v2 = CgroupMount(root: "/", mountPoint: "/sys/fs/cgroup")
        #expect(v2.directories(forCgroup: "/kubepods/pod1/ctr") == ["/sys/fs/cgroup/kubepods/pod1/ctr", "/sys/fs/cgroup/kubepods/pod1", "/sys/fs/cgroup/kubepods", "/sys/fs/cgroup"])
        #expect(v2.directories(forCgroup: "/") == ["/sys/fs/cgroup"])
        let container = CgroupMount(root: "/docker/abc", mountPoint: "/sys/fs/cgroup/cpu")
        #expect(container.directories(forCgroup: "/docker/abc") == ["/sys/fs/cgroup/cpu"])
        #expect(container.directories(forCgroup: "/docker/abc/inner") == ["/sys/fs/cgroup/cpu/inner", "/sys/fs/cgroup/cpu"])
        #expect(container.directories(forCgroup: "/docker/abcdef") == ["/sys/fs/cgroup/cpu"])  // not under the root
    }

    static let v2MountInfo = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"

    @Test func nestedV2TakesTheSmallestQuotaOfTheAncestors() {
        let files = [
            "/proc/self/cgroup": "0::/kubepods/pod1/ctr\n",
            "/proc/self/mountinfo": Self.v2MountInfo,
            "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max": "max 100000\n",
            "/sys/fs/cgroup/kubepods/pod1/cpu.max": "150000 100000\n",
            "/sys/fs/cgroup/kubepods/cpu.max": "400000 100000\n",
        ]
        #expect(CgroupCPUQuota.cpus(readFile: { files[$0] }) == 2)
    }

    @Test func malformedOrMissingFilesAreNoLimit() {
        var files = [
            "/proc/self/cgroup": "0::/a/b\n",
            "/proc/self/mountinfo": Self.v2MountInfo,
            "/sys/fs/cgroup/a/b/cpu.max": "garbage\n",
        ]
        #expect(CgroupCPUQuota.cpus(readFile: { files[$0] }) == nil)
        files["/sys/fs/cgroup/a/cpu.max"] = "300000 100000\n"  // a malformed child does not hide its parent
        #expect(CgroupCPUQuota.cpus(readFile: { files[$0] }) == 3)
        #expect(CgroupCPUQuota.cpus(readFile: { _ in nil }) == nil)
        // No mountinfo: v2 is looked for at /sys/fs/cgroup.
        files["/proc/self/mountinfo"] = nil
        #expect(CgroupCPUQuota.cpus(readFile: { files[$0] }) == 3)
    }

    @Test func v1QuotaInAHybridSystem() {
        let files = [
            "/proc/self/cgroup": "2:cpu,cpuacct:/docker/abc/inner\n0::/\n",
            "/proc/self/mountinfo": Self.hybridMountInfo,
            "/sys/fs/cgroup/cpu,cpuacct/inner/cpu.cfs_quota_us": "-1\n",
            "/sys/fs/cgroup/cpu,cpuacct/inner/cpu.cfs_period_us": "100000\n",
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "50000\n",
            "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
            "/sys/fs/cgroup/unified dir/cpu.max": "max 100000\n",
        ]
        #expect(CgroupCPUQuota.cpus(readFile: { files[$0] }) == 1)
        var unlimited = files
        unlimited["/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"] = "-1\n"
        #expect(CgroupCPUQuota.cpus(readFile: { unlimited[$0] }) == nil)
    }

    @Test func theRuleIsTheSmallerOfAffinityAndQuotaAtLeastOne() {
        #expect(AvailableCPUs.resolve(affinity: 8, quotaCPUs: 2) == 2)
        #expect(AvailableCPUs.resolve(affinity: 1, quotaCPUs: 4) == 1)
        #expect(AvailableCPUs.resolve(affinity: 6, quotaCPUs: nil) == 6)
        #expect(AvailableCPUs.resolve(affinity: 0, quotaCPUs: nil) == 1)
        #expect(AvailableCPUs.count >= 1)
    }
}
