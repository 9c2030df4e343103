using System.Collections.Concurrent;
using System.Diagnostics;
using Gatekeeper.Audit.Tests.Support;

namespace Gatekeeper.Audit.Tests;

/// <summary>
/// kill -9 under load: a child process (this test assembly's own Main, see Program.cs) appends from many tasks
/// and prints each decision id only after AppendAsync completed. Whatever it printed must be in the log.
/// </summary>
public sealed class CrashTests
{
    private const int AckedBeforeKill = 3_000;

    [Fact]
    public async Task AuditLog_KilledWithSigkillUnderLoad_KeepsEveryAcknowledgedRecordAndTheChainVerifies()
    {
        using var dir = new TempDirectory();
        var acked = new ConcurrentQueue<string>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new ConcurrentQueue<string>();
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        using var child = new Process
        {
            StartInfo = new ProcessStartInfo(dotnet)
            {
                ArgumentList = { typeof(CrashTests).Assembly.Location, Program.CrashChildCommand, dir.Data, "32" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        child.OutputDataReceived += (_, e) =>
        {
            // A line cut short by the kill is not an acknowledgement: only whole ids count.
            if (e.Data is { Length: DecisionIds.Length } id)
            {
                acked.Enqueue(id);
                if (acked.Count >= AckedBeforeKill)
                {
                    enough.TrySetResult();
                }
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                errors.Enqueue(e.Data);
            }
        };
        child.Start();
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();

        var finished = await Task.WhenAny(enough.Task, child.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(40)));
        Assert.True(finished == enough.Task, $"the child did not reach {AckedBeforeKill} acks: {string.Join('\n', errors)}");
        child.Kill(); // SIGKILL on Linux: no finally blocks, no flush, no dispose
        await child.WaitForExitAsync();
        Assert.Equal(128 + 9, child.ExitCode);

        var result = AuditVerifier.Verify(dir.Data);
        Assert.True(result.IsValid, result.ToString());
        var stored = new AuditQuery(dir.Options()).ReadAll(new AuditQueryFilter()).Select(e => e.DecisionId).ToHashSet(StringComparer.Ordinal);
        var missing = acked.Where(id => !stored.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {acked.Count} acknowledged records are missing, e.g. {missing.FirstOrDefault()}");
        Assert.True(result.RecordsChecked >= acked.Count);

        // After the crash the log opens (WAL recovery) and the chain continues.
        await using (var log = new AuditLog(dir.Options(), new ListLogger(), TimeProvider.System))
        {
            await log.AppendAsync(Records.Sample());
        }

        var after = AuditVerifier.Verify(dir.Data);
        Assert.True(after.IsValid, after.ToString());
        Assert.Equal(result.RecordsChecked + 1, after.RecordsChecked);
    }
}
