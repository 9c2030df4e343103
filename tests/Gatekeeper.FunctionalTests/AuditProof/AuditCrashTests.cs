using System.Collections.Concurrent;
using System.Text.Json;
using Gatekeeper.Client;
using Gatekeeper.V1;
using Xunit.Abstractions;

namespace Gatekeeper.FunctionalTests.AuditProof;

/// <summary>
/// Issue 5's crash proof, end to end: the real service in its own process, 32 concurrent callers, <c>kill -9</c>
/// in the middle of the load, then the operators' own commands (<c>audit verify</c>, <c>audit export</c>) on what
/// is left on disk: every decision id a caller received must be in the log and the chain must verify. Then the
/// service restarts on the same data directory and carries the same chain on.
/// </summary>
public sealed class AuditCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Callers = 32;
    private const int BatchCallers = 4;
    private const int AnswersBeforeKill = 3_000;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan LoadTimeout = TimeSpan.FromSeconds(180);

    private readonly string _root = Directory.CreateTempSubdirectory("gk-crash-").FullName;

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Decide_ServiceKilledUnderLoad_EveryReceivedDecisionIsLoggedAndTheChainVerifiesAndRestartAppends()
    {
        // Arrange: the service, and callers that keep exactly what they received.
        var received = new ConcurrentQueue<string>();
        var failuresAfterKill = 0;
        var killed = 0;
        using (var service = ServiceProcess.StartService(DataDirectory, _root))
        {
            var address = await service.WaitUntilListeningAsync(StartTimeout);
            using var client = new GatekeeperClient(new GatekeeperClientOptions { Address = address, DefaultDeadline = TimeSpan.FromSeconds(30) });
            using var stop = new CancellationTokenSource();
            var loops = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        if (i < BatchCallers)
                        {
                            var batch = await client.DecideBatchAsync(new DecideBatchRequest { Requests = { Request(i, n++), Request(i, n++), Request(i, n++) } });
                            foreach (var answer in batch.Responses)
                            {
                                received.Enqueue(answer.DecisionId);
                            }
                        }
                        else
                        {
                            received.Enqueue((await client.DecideAsync(Request(i, n++))).DecisionId);
                        }
                    }
                    catch (RpcException) when (Volatile.Read(ref killed) == 1)
                    {
                        // In flight when the process died, or sent after: no answer, so nothing is owed to the log.
                        Interlocked.Increment(ref failuresAfterKill);
                        return;
                    }
                }
            })).ToArray();

            // Act: kill -9 once a few thousand answers are out, with all callers still calling.
            using (var loadTimeout = new CancellationTokenSource(LoadTimeout))
            {
                while (received.Count < AnswersBeforeKill)
                {
                    Assert.False(loadTimeout.IsCancellationRequested, $"Only {received.Count} answers in {LoadTimeout.TotalSeconds} s.{service.Describe()}");
                    Assert.False(service.HasExited, $"The service died on its own.{service.Describe()}");
                    await Task.Delay(10);
                }
            }

            Volatile.Write(ref killed, 1);
            service.KillHard();
            Assert.Equal(137, await service.WaitForExitAsync()); // 128 + SIGKILL
            await stop.CancelAsync();
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));
        }

        // Assert: the operators' commands on the files the killed process left.
        var answered = received.ToHashSet(StringComparer.Ordinal);
        Assert.Equal(received.Count, answered.Count);
        Assert.True(failuresAfterKill > 0, "No call was in flight at the kill: it did not happen under load.");
        await VerifyAsync();
        var logged = await ExportAsync();
        var missing = answered.Where(id => !logged.Ids.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {answered.Count} answered decisions are not in the log, e.g. {string.Join(", ", missing.Take(5))}");
        output.WriteLine($"received {answered.Count} answers, killed with {failuresAfterKill} calls unanswered; log holds {logged.Ids.Count} records ({logged.Ids.Count - answered.Count} logged but never received)");

        // Act 2: restart on the same directory; answers are logged again, on the same chain.
        var afterRestart = new List<string>();
        using (var service = ServiceProcess.StartService(DataDirectory, _root))
        {
            var address = await service.WaitUntilListeningAsync(StartTimeout);
            using var client = new GatekeeperClient(new GatekeeperClientOptions { Address = address, DefaultDeadline = TimeSpan.FromSeconds(30) });
            for (var i = 0; i < 20; i++)
            {
                afterRestart.Add((await client.DecideAsync(Request(99, i))).DecisionId);
            }

            service.KillHard();
            await service.WaitForExitAsync();
        }

        // Assert 2
        await VerifyAsync();
        var relogged = await ExportAsync();
        Assert.All(afterRestart, id => Assert.Contains(id, relogged.Ids));
        Assert.Equal(logged.Ids.Count + afterRestart.Count, relogged.Ids.Count);
        Assert.Equal(logged.LastHash, relogged.PrevHashOf[afterRestart[0]]);
    }

    private static DecideRequest Request(int caller, int n) => (n % 3) switch
    {
        0 => new DecideRequest { Category = "health_disability", Recipient = "gp_surgery", Purpose = "social_care", RequestId = $"c{caller}_{n}" },
        1 => new DecideRequest { Category = "health_disability", Recipient = "gp_surgery", Purpose = "marketing", RequestId = $"c{caller}_{n}" },
        _ => new DecideRequest { Category = "identity_contact", Recipient = "police", Purpose = "crime_prevention", SubjectRef = $"person-{n % 50}", RequestId = $"c{caller}_{n}" },
    };

    private async Task VerifyAsync()
    {
        using var verify = ServiceProcess.StartAuditCommand(DataDirectory, _root, "verify");
        var code = await verify.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(code == 0, $"audit verify exited {code}.{verify.Describe()}");
        output.WriteLine(verify.Output.Trim());
    }

    private async Task<ExportedLog> ExportAsync()
    {
        using var export = ServiceProcess.StartAuditCommand(DataDirectory, _root, "export");
        var code = await export.WaitForExitAsync(TimeSpan.FromSeconds(120));
        Assert.True(code == 0, $"audit export exited {code}.{export.Describe()}");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var prevHashOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var lastHash = "";
        foreach (var line in export.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var record = JsonDocument.Parse(line);
            var id = record.RootElement.GetProperty("decision_id").GetString()!;
            Assert.True(ids.Add(id), $"decision id {id} is in the log twice");
            prevHashOf[id] = record.RootElement.GetProperty("prev_hash").GetString()!;
            lastHash = record.RootElement.GetProperty("hash").GetString()!;
        }

        return new ExportedLog(ids, prevHashOf, lastHash);
    }

    private sealed record ExportedLog(HashSet<string> Ids, Dictionary<string, string> PrevHashOf, string LastHash);
}
