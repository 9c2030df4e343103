using System.Collections.Concurrent;
using System.Diagnostics;
using Gatekeeper.Audit;
using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Admin;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;
using Xunit.Abstractions;

namespace Gatekeeper.FunctionalTests.AuditProof;

/// <summary>
/// Issue 5's fault proofs through the real server: the audit disk fills up (a 1 MiB tmpfs) → UNAVAILABLE and
/// never an answer without its record, then recovery once space is freed; and a data directory that cannot be
/// created or written → the service refuses to start, with one clear line.
/// </summary>
public sealed class AuditFaultTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gk-fault-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Decide_AuditDiskFull_UnavailableNeverUnloggedThenRecoversWhenSpaceIsFreed()
    {
        using var disk = Tmpfs.Mount(Path.Combine(_root, "mnt"), sizeKiB: 1024);
        var dataDirectory = Path.Combine(disk.Path, "data");
        var server = await GatekeeperServer.StartAsync($"--Gatekeeper:DataDirectory={dataDirectory}");
        try
        {
            // Arrange
            Assert.True(File.Exists(Path.Combine(dataDirectory, AuditOptions.DatabaseFileName)), "The server did not put its log on the small disk.");
            using var client = server.CreateClient(o => o.DefaultDeadline = TimeSpan.FromSeconds(30));
            var answered = new ConcurrentQueue<string>();
            for (var i = 0; i < 10; i++)
            {
                answered.Enqueue((await client.DecideAsync(Request(i))).DecisionId);
            }

            var filler = disk.Fill();

            // Act 1: keep calling on the full disk.
            var unavailable = 0;
            var okWhileFull = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(loop => Task.Run(async () =>
            {
                for (var n = 0; Volatile.Read(ref unavailable) < 50 && clock.Elapsed < TimeSpan.FromSeconds(30); n++)
                {
                    try
                    {
                        answered.Enqueue((await client.DecideAsync(Request(n))).DecisionId);
                        Interlocked.Increment(ref okWhileFull);
                    }
                    catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
                    {
                        Interlocked.Increment(ref unavailable);
                    }
                }
            })));

            // Assert 1
            Assert.True(unavailable > 0, $"No UNAVAILABLE in {clock.Elapsed.TotalSeconds:0} s on a full disk ({okWhileFull} answers).");
            Assert.Contains(server.Logs.Records, r => r.EventId.Name == "AuditBatchFailed");

            // Act 2: free the space; answers must flow again without a restart.
            File.Delete(filler);
            var recovered = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    answered.Enqueue((await client.DecideAsync(Request(0))).DecisionId);
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && recovered.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(50);
                }
            }

            for (var i = 0; i < 20; i++)
            {
                answered.Enqueue((await client.DecideAsync(Request(i))).DecisionId);
            }

            // Assert 2: every answer given, before, during and after the fault, is in the log, and the chain holds.
            var logged = (await client.QueryAllAsync(new QueryAuditRequest { PageSize = 1000 })).Select(r => r.DecisionId).ToHashSet(StringComparer.Ordinal);
            var missing = answered.Where(id => !logged.Contains(id)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} answers are not in the log: {string.Join(", ", missing.Take(5))}");
            var verification = AuditVerifier.Verify(new AuditOptions { DataDirectory = dataDirectory });
            Assert.True(verification.IsValid, verification.ToString());
            Assert.Contains(server.Logs.Records, r => r.EventId.Name == "AuditStoreRecovered");
            output.WriteLine($"full disk: {unavailable} UNAVAILABLE, {okWhileFull} answered (each logged); recovered {recovered.ElapsedMilliseconds} ms after the space was freed; {logged.Count} records verify");
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Startup_DataDirectoryCannotBeCreated_RefusesToStartWithOneClearLine()
    {
        // Arrange: a regular file where a parent folder should be (root can create folders anywhere else).
        var blocker = Path.Combine(_root, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "");
        var dataDirectory = Path.Combine(blocker, "data");

        // Act
        using var service = ServiceProcess.StartService(dataDirectory, _root);
        var code = await service.WaitForExitAsync(TimeSpan.FromSeconds(90));

        // Assert
        AssertRefusedClearly(service, code, dataDirectory);
    }

    [Fact]
    public async Task Startup_DataDirectoryOnReadOnlyDisk_RefusesToStartWithOneClearLine()
    {
        // Arrange
        using var disk = Tmpfs.Mount(Path.Combine(_root, "ro"), sizeKiB: 64, readOnly: true);

        // Act
        using var service = ServiceProcess.StartService(disk.Path, _root);
        var code = await service.WaitForExitAsync(TimeSpan.FromSeconds(90));

        // Assert
        AssertRefusedClearly(service, code, disk.Path);
        Assert.Contains("Read-only file system", service.Output, StringComparison.Ordinal);
    }

    private void AssertRefusedClearly(ServiceProcess service, int code, string dataDirectory)
    {
        output.WriteLine(service.Output);
        Assert.True(code == AuditCli.ExitFailure, $"exit code {code}, expected {AuditCli.ExitFailure}.{service.Describe()}");
        Assert.DoesNotContain("Unhandled exception", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", service.Output, StringComparison.Ordinal);
        Assert.Contains($"gatekeeper: cannot start: the audit log in '{dataDirectory}' (Gatekeeper:DataDirectory)", service.Output, StringComparison.Ordinal);
    }

    private static DecideRequest Request(int n) => new()
    {
        Category = "health_disability",
        Recipient = "gp_surgery",
        Purpose = n % 2 == 0 ? "social_care" : "marketing",
        RequestId = $"fault_{n}",
    };
}
