using System.Diagnostics;
using Gatekeeper.Audit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Benchmarks;

/// <summary>
/// CPU per durable record, split into the whole process and the audit writer thread: 64 concurrent appenders, texts
/// as long as the default policy's (lawful basis ~470 characters, reason ~110, context ~150), a real SQLite file in
/// the temp directory. CPU time is what other tenants of a shared machine disturb least, and the writer thread is
/// what limits the log; compare builds by alternating runs on the same core:
///   taskset -c 0 dotnet run -c Release --project perf/Gatekeeper.Benchmarks -- writer-cost [records per round] [rounds]
/// </summary>
internal static class AuditWriterCost
{
    private const int Appenders = 64;
    private const string WriterThread = "gatekeeper-audi"; // the writer's name as /proc shows it (15 characters)

    public static async Task RunAsync(int records, int rounds)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gk-writer-cost-" + Guid.NewGuid().ToString("N")[..8]);
        var log = new AuditLog(new AuditOptions { DataDirectory = directory }, NullLogger.Instance, TimeProvider.System);
        var basis = new AuditLawfulBasis(
            "6(1)(e) public task: the council's statutory social care functions",
            "9(2)(h) health or social care, with DPA 2018 Sch 1 para 2",
            "10(1); DPA 2018 s.10(5) and Sch 1 para 1 'social care purposes' where criminal offence data is involved",
            ["Children Act 1989 s.17", "Children Act 2004 s.10 and s.11", "Working Together to Safeguard Children 2023"]);
        string[] obligations = ["need_to_know", "minimise"];
        const string Reason = "Health agencies and GP surgeries receive what they need to plan and provide the child's care and support.";
        const string Context = """{"consent":"unknown","destination_country":"","form":"identifiable","subject_is_minor":true,"subject_request":false,"subject_statuses":["child_in_need"]}""";
        try
        {
            for (var round = 1; round <= rounds; round++)
            {
                var process = Process.GetCurrentProcess();
                var processCpu = process.TotalProcessorTime;
                var writerCpu = WriterCpuTicks();
                var batches = log.CommittedBatches;
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var clock = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, Appenders).Select(_ => Task.Run(async () =>
                {
                    for (var i = 0; i < records / Appenders; i++)
                    {
                        await log.AppendAsync(new AuditRecord
                        {
                            DecisionId = DecisionIds.New(), Time = DateTimeOffset.UtcNow, Caller = "anonymous-loopback",
                            Category = "health_disability", Recipient = "gp_surgery", Purpose = "social_care", Context = Context,
                            Decision = AuditDecisions.AllowWithConditions, RuleId = "care_health_services",
                            PolicyVersion = "2026-11-22.1+sha256:16762d5a75765c04", LawfulBasis = basis, Obligations = obligations,
                            Reason = Reason, FromCache = AuditCacheResults.L1,
                        });
                    }
                })));
                var done = records / Appenders * Appenders;
                process.Refresh();
                Console.WriteLine(
                    $"round {round}: {done / clock.Elapsed.TotalSeconds:F0} records/s, process CPU {(process.TotalProcessorTime - processCpu).TotalMicroseconds / done:F2} µs/record, " +
                    $"writer thread {(WriterCpuTicks() - writerCpu) * 10_000.0 / done:F2} µs/record, mean batch {done / (double)Math.Max(1, log.CommittedBatches - batches):F0}, " +
                    $"allocated {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / done} B/record");
            }
        }
        finally
        {
            await log.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    // utime + stime of the writer thread, in clock ticks (USER_HZ = 100 on Linux).
    private static long WriterCpuTicks()
    {
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == WriterThread)
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("The audit writer thread was not found in /proc/self/task.");
    }
}
