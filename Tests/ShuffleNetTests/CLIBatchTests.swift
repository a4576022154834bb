import Foundation
import Testing

/// The judged cases, on the built `shufflenet` binary with random weights: every image-named file
/// exactly once and bad ones as errors (exit 2); stdin lists give every entry a row and equal the directory
/// run when they list its image files; shards add up to the whole; a SIGKILLed run resumed equals the whole;
/// the CSV parses.
@Suite(.enabled(if: CLITestSupport.binary != nil, CLITestSupport.skip))
final class CLIBatchTests {
    let tmp: String
    let weights: String
    let tree: (root: String, expected: [(path: String, bad: Bool)])

    init() throws {
        tmp = try BatchTestSupport.temporaryDirectory("cli")
        weights = try BatchTestSupport.randomWeightsFile(in: tmp)
        tree = try BatchTestSupport.makeJudgedTree(in: tmp)
    }

    deinit { try? FileManager.default.removeItem(atPath: tmp) }

    func classify(_ arguments: [String], stdin: Data? = nil) throws -> CLITestSupport.Run {
        try CLITestSupport.run(["classify", "--weights", weights] + arguments, stdin: stdin, in: tmp)
    }

    static func records(_ run: CLITestSupport.Run) throws -> [[String: Any]] {
        try run.lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test func everyImageNamedFileExactlyOnceBadOnesAsErrors() throws {
        let run = try classify(["-r", "photos", "--format", "jsonl", "--top-k", "3"])
        #expect(run.status == 2)
        let records = try Self.records(run)  // stdout holds nothing but rows
        #expect(records.map { $0["path"] as? String } == tree.expected.map { "photos/" + $0.path })
        #expect(records.map { $0["error"] != nil } == tree.expected.map(\.bad))
        for record in records where record["error"] == nil {
            #expect((record["predictions"] as? [[String: Any]])?.count == 3)
        }
        #expect(run.stderr.contains("12 files, 4 errors"))
    }

    @Test func csvParsesWithAHeaderAndOneRowPerFile() throws {
        let run = try classify(["--recursive", "photos", "--format", "csv", "--top-k", "2"])
        #expect(run.status == 2)
        let rows = try CLITestSupport.parseCSV(run.text)
        #expect(rows.first == ["path", "top1_index", "top1_label", "top1_probability", "error", "top2_index", "top2_label", "top2_probability"])
        let body = rows.dropFirst()
        #expect(body.allSatisfy { $0.count == 8 })
        #expect(body.map { $0[0] } == tree.expected.map { "photos/" + $0.path })
        #expect(body.map { !$0[4].isEmpty } == tree.expected.map(\.bad))
        for row in body where row[4].isEmpty {
            #expect(Int(row[1]) != nil && Double(row[3]) != nil && Int(row[5]) != nil && !row[2].isEmpty)
        }
    }

    @Test func imageFilesListedOnStdinEqualTheDirectoryRun() throws {
        let whole = try classify(["-r", "photos", "--format", "jsonl", "-q"])
        // Like `find photos -type f -iname '*.jp*g' -o ...`, in file-system order, here reversed.
        let listing = tree.expected.map { "photos/" + $0.path }.reversed()
        for separator in ["\n", "\0"] {
            let stdin = Data(listing.joined(separator: separator).utf8)
            let piped = try classify(["-", "--format", "jsonl", "-q"] + (separator == "\0" ? ["-0"] : []), stdin: stdin)
            #expect(piped.status == 2)
            #expect(piped.lines.sorted() == whole.lines.sorted())
            #expect(piped.lines.count == tree.expected.count)
        }
    }

    @Test func everyStdinEntryGetsARowAndTheSummaryAddsUp() throws {
        let entries = ["photos/readme.txt", "", "photos/sub dir", "photos/nope", "", "", "photos/img2.JPG", "photos/Vacation 2024/clip.mov"]
        for separator in ["\n", "\0"] {
            let stdin = Data(entries.joined(separator: separator).utf8)
            let run = try classify(["-", "--format", "jsonl"] + (separator == "\0" ? ["-0"] : []), stdin: stdin)
            #expect(run.status == 2)
            let records = try Self.records(run)
            // The directory expands in place (natural order, no -r); clip.mov is JPEG data whatever its name.
            #expect(records.map { $0["path"] as? String } == ["photos/readme.txt", "photos/sub dir/cup, \"quoted\".jpeg",
                                                            "photos/sub dir/notes.jpg", "photos/nope", "photos/img2.JPG",
                                                            "photos/Vacation 2024/clip.mov"])
            #expect(records.map { $0["error"] != nil } == [true, false, true, true, false, false])
            // 6 rows + 3 empty lines = the 8 entries, one of them a directory holding 2 files.
            #expect(run.stderr.contains("6 files, 3 errors, 3 empty lines skipped, "), "\(run.stderr)")
        }
        let noEmpties = try classify(["-", "--format", "jsonl"], stdin: Data("photos/img2.JPG\nphotos/readme.txt\n".utf8))
        #expect(noEmpties.stderr.contains("2 files, 1 error, ") && !noEmpties.stderr.contains("empty line"))
    }

    @Test func twoShardsEqualTheWhole() throws {
        let whole = try classify(["-r", "photos", "--format", "jsonl", "-q"])
        let first = try classify(["-r", "photos", "--format", "jsonl", "-q", "--shard", "1/2", "-o", "s1.jsonl"])
        let second = try classify(["-r", "photos", "--format", "jsonl", "-q", "--shard", "2/2", "-o", "s2.jsonl"])
        #expect(first.stdout.isEmpty && second.stdout.isEmpty)
        let a = try String(contentsOfFile: tmp + "/s1.jsonl", encoding: .utf8).split(separator: "\n")
        let b = try String(contentsOfFile: tmp + "/s2.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(!a.isEmpty && !b.isEmpty)
        #expect(Set(a).isDisjoint(with: b))
        #expect((a + b).sorted() == whole.lines.map { Substring($0) }.sorted())
        // The merge script restores the single run's order exactly.
        let merge = SharedTestDataPaths.script("batch/merge-shards")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [merge, "-o", tmp + "/merged.jsonl", tmp + "/s2.jsonl", tmp + "/s1.jsonl"]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(FileManager.default.contents(atPath: tmp + "/merged.jsonl") == whole.stdout)
        }
    }

    @Test(arguments: ["jsonl", "csv"])
    func resumingATornOutputEqualsTheWhole(format: String) throws {
        let whole = try classify(["-r", "photos", "--format", format, "-q"]).stdout
        for cut in [whole.count / 3, whole.count / 2 + 7, whole.count - 1, 3] {
            _ = FileManager.default.createFile(atPath: tmp + "/partial", contents: whole.prefix(cut))
            let resumed = try classify(["-r", "photos", "--format", format, "-q", "-o", "partial", "--resume"])
            #expect(resumed.status == 2 && resumed.stdout.isEmpty)
            #expect(FileManager.default.contents(atPath: tmp + "/partial") == whole, "cut at \(cut)")
        }
        // Resuming a finished file adds nothing.
        _ = try classify(["-r", "photos", "--format", format, "-q", "-o", "partial", "--resume"])
        #expect(FileManager.default.contents(atPath: tmp + "/partial") == whole)
    }

    @Test func aSIGKILLedRunResumedEqualsTheWhole() throws {
        let many = try BatchTestSupport.makeLargeTree(in: tmp, count: 600)
        let arguments = ["-r", URL(fileURLWithPath: many).lastPathComponent, "--format", "jsonl", "-q", "--threads", "1"]
        let whole = try classify(arguments)
        #expect(whole.status == 0 && whole.lines.count == 600)
        let output = tmp + "/killed.jsonl"
        let (process, wait) = try CLITestSupport.start(["classify", "--weights", weights] + arguments + ["-o", output], in: tmp)
        var size = 0
        for _ in 0..<2000 where size < 20_000 {
            usleep(2000)
            size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        }
        kill(process.processIdentifier, SIGKILL)
        let killed = try wait()
        #expect(killed.status == SIGKILL)
        let partial = FileManager.default.contents(atPath: output) ?? Data()
        #expect(partial.count > 0 && partial.count < whole.stdout.count, "the kill should land mid-run")
        let resumed = try classify(arguments + ["-o", output, "--resume"])
        #expect(resumed.status == 0)
        #expect(FileManager.default.contents(atPath: output) == whole.stdout)
    }

    @Test func exitCodesAndFailFast() throws {
        let missingWeights = try CLITestSupport.run(["classify", "--weights", "nope.safetensors", "photos"], in: tmp)
        #expect(missingWeights.status == 1 && missingWeights.stdout.isEmpty)
        #expect(try classify(["photos", "--resume"]).status == 64)
        #expect(try classify(["photos", "--shard", "3/2"]).status == 64)
        #expect(try classify(["-r", "photos/sub dir/deeper", "-q"]).status == 0)
        let failFast = try classify(["-r", "photos", "--format", "jsonl", "--fail-fast", "-q"])
        #expect(failFast.status == 2)
        let firstBad = try #require(tree.expected.firstIndex { $0.bad })
        #expect(try Self.records(failFast).map { $0["path"] as? String } == tree.expected.prefix(firstBad + 1).map { "photos/" + $0.path })
        #expect(failFast.stderr.contains("--fail-fast"))
        let unwritable = try classify(["photos", "-o", "no/such/dir/out.jsonl"])
        #expect(unwritable.status == 1 && unwritable.stderr.contains("no/such/dir/out.jsonl"))
    }
}

/// Paths of committed scripts, for tests that run them.
enum SharedTestDataPaths {
    static func script(_ name: String) -> String { BatchTestSupport.samples + "/../" + name }
}
