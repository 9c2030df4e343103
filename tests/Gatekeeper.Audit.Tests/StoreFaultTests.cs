using Gatekeeper.Audit.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Gatekeeper.Audit.Tests;

/// <summary>
/// A real full disk: the store lives on a 1 MiB tmpfs that the test fills. (chmod would not do: tests run as
/// root, and root ignores permission bits; a tmpfs at its size limit fails writes with ENOSPC even for root.)
/// </summary>
public sealed class StoreFaultTests
{
    [Fact]
    public async Task AppendAsync_DiskFull_EveryWaitingCallGetsUnavailableThenTheWriterRecovers()
    {
        using var dir = new TempDirectory();
        using var mount = new TmpfsMount(Path.Combine(dir.Path, "mnt"), sizeKiB: 1024);
        var logger = new ListLogger();
        var options = new AuditOptions { DataDirectory = Path.Combine(mount.Path, "data") };
        var acked = new List<string>();
        await using var log = new AuditLog(options, logger, TimeProvider.System);
        for (var i = 0; i < 10; i++)
        {
            var record = Records.Sample();
            await log.AppendAsync(record);
            acked.Add(record.DecisionId);
        }

        var filler = mount.Fill();
        // 64 KiB each: every batch needs fresh WAL pages, which a full disk cannot give.
        var big = new string('x', 64 * 1024);
        var doomed = Enumerable.Range(0, 16).Select(_ => Records.Sample(reason: big)).ToArray();
        var attempts = doomed.Select(r => log.AppendAsync(r).AsTask()).ToArray();

        foreach (var attempt in attempts)
        {
            var error = await Assert.ThrowsAsync<AuditUnavailableException>(() => attempt);
            Assert.Equal(AuditUnavailableReason.StoreFailing, error.Reason);
            Assert.IsType<SqliteException>(error.InnerException);
        }

        Assert.Equal(AuditHealth.Failing, log.Health);
        Assert.True(log.FailedBatches >= 1);
        Assert.True(logger.Count("AuditBatchFailed") >= 1);
        Assert.Contains("full", logger.Entries.First(e => e.Event.Name == "AuditBatchFailed").Message + string.Join(" ", attempts.Select(a => a.Exception!.InnerException!.Message)), StringComparison.OrdinalIgnoreCase);

        // The fault clears: with no traffic at all, the writer's probe turns the health flag back...
        File.Delete(filler);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (log.Health != AuditHealth.Healthy && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(log.Health == AuditHealth.Healthy, string.Join("\n", logger.Entries.Select(e => e.Event.Name + ": " + e.Message)));

        // ...and appends commit again: the writer reopened the store, re-read the head and carried on.
        for (var i = 0; i < 10; i++)
        {
            var record = Records.Sample();
            await log.AppendAsync(record);
            acked.Add(record.DecisionId);
        }

        Assert.Equal(AuditHealth.Healthy, log.Health);
        Assert.Equal(1, logger.Count("AuditStoreRecovered"));
        await log.DisposeAsync();

        var result = AuditVerifier.Verify(options);
        Assert.True(result.IsValid, result.ToString());
        var stored = new AuditQuery(options).ReadAll(new AuditQueryFilter()).Select(e => e.DecisionId).ToList();
        Assert.Equal(acked, stored); // every acknowledged record, in order, and none of the refused ones
    }
}
