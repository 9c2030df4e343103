// Last results (2026-11-22, shared 2-core VM under load average 7-16 from other engineers' builds: absolute
// numbers are noisy, compare within one run). Run:
//   dotnet run -c Release --project perf/Gatekeeper.Benchmarks -- --filter '*Audit*' --job short
// (this run added --no-build --inProcess because src/Gatekeeper and ServerLayerBenchmarks.cs did not build at the time)
//
// BenchmarkDotNet v0.14.0, Debian GNU/Linux 12 (bookworm), Intel Xeon Processor, 2 cores, .NET 10.0.12
// Job=ShortRun  Toolchain=InProcessEmitToolchain  IterationCount=3  LaunchCount=1  WarmupCount=3
//
// | Method                              | Mean      | Error     | StdDev    | Allocated |
// |------------------------------------ |----------:|----------:|----------:|----------:|
// | Append_64ConcurrentAppenders        |  74.23 us | 270.26 us | 14.814 us |    6.3 KB |
// | Append_SingleAppender_CommitLatency | 173.95 us | 166.78 us |  9.142 us |   7.57 KB |
//
// audit: 54400 records in 1384 batches (mean batch 39.3, largest 64), last commit latency 0.44 ms
// audit: 36865 records in 36865 batches (mean batch 1.0, largest 1), last commit latency 0.11 ms
//
// Earlier run with the exact command above (out of process), same machine, similar load:
// | Append_64ConcurrentAppenders        |  41.55 us | 231.02 us | 12.66 us |    6.3 KB |
// | Append_SingleAppender_CommitLatency | 233.41 us | 201.06 us | 11.02 us |   7.59 KB |
// audit: 57600 records in 1713 batches (mean batch 33.6, largest 64), last commit latency 0.40 ms
//
// Reading: 64 appenders -> 13,500-24,000 durable records/s (1 / Mean), batches of ~35-40 records per fsync;
// one idle append (a full BEGIN/INSERT/COMMIT+fsync) costs 0.17-0.23 ms. Group commit gives 2.3-5.6x the
// throughput of committing each record alone; under load the single writer's per-row CPU is the limit, not fsync.

using BenchmarkDotNet.Attributes;
using Gatekeeper.Audit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Benchmarks;

/// <summary>
/// Throughput of the durable audit append (group commit, one fsync per batch) with 64 concurrent appenders, and
/// the latency of one uncontended append (= one commit: BEGIN, INSERT, COMMIT with the WAL fsync).
/// Uses a real SQLite file under the temp directory, i.e. the real disk and its fsync cost.
/// </summary>
[MemoryDiagnoser]
public class AuditBenchmarks
{
    private const int Appenders = 64;
    private const int AppendsPerAppender = 50;

    private string _directory = "";
    private AuditLog _log = null!;
    private AuditRecord _record = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "gk-audit-bench-" + Guid.NewGuid().ToString("N")[..8]);
        _log = new AuditLog(new AuditOptions { DataDirectory = _directory }, NullLogger.Instance, TimeProvider.System);
        _record = new AuditRecord
        {
            DecisionId = DecisionIds.New(),
            Caller = "10.0.0.7:51234",
            RequestId = "req-1",
            Category = "child_protection",
            Recipient = "police",
            Purpose = "crime_prevention",
            Context = """{"form":"identifiable","subject_statuses":["child_protection_plan"]}""",
            Decision = AuditDecisions.AllowWithConditions,
            RuleId = "cp-police-safeguarding",
            PolicyVersion = "2026.11.1",
            LawfulBasis = new AuditLawfulBasis("6(1)(e)", "9(2)(g)", "10", ["DPA 2018 Sch1 Pt2 para 18"]),
            Obligations = ["need_to_know", "record_reasons"],
            Reason = "safeguarding",
            TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
            SubjectRef = "subject-123",
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var batches = Math.Max(1, _log.CommittedBatches);
        Console.WriteLine(
            $"// audit: {_log.CommittedRecords} records in {_log.CommittedBatches} batches (mean batch {(double)_log.CommittedRecords / batches:F1}, largest {_log.LargestBatchSize}), last commit latency {_log.LastCommitLatency.TotalMilliseconds:F2} ms");
        _log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Per-record cost under load: records/s = 1 / Mean.</summary>
    [Benchmark(OperationsPerInvoke = Appenders * AppendsPerAppender)]
    public Task Append_64ConcurrentAppenders()
    {
        var tasks = new Task[Appenders];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = AppendManyAsync(_log, _record);
        }

        return Task.WhenAll(tasks);

        static async Task AppendManyAsync(AuditLog log, AuditRecord record)
        {
            for (var i = 0; i < AppendsPerAppender; i++)
            {
                await log.AppendAsync(record);
            }
        }
    }

    /// <summary>One caller alone: the full commit latency a request pays when the log is idle.</summary>
    [Benchmark]
    public ValueTask Append_SingleAppender_CommitLatency() => _log.AppendAsync(_record);
}
