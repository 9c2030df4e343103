using System.Diagnostics;
using Gatekeeper.Audit;
using Gatekeeper.Caching;
using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Policy;
using Gatekeeper.Redis;
using Gatekeeper.Redis.Tests.Infrastructure;
using Gatekeeper.V1;
using Grpc.Health.V1;

namespace Gatekeeper.FunctionalTests;

/// <summary>
/// The decision cache end to end: real servers, a real redis-server, answers checked in the audit log
/// (which records the tier each answer came from).
/// </summary>
public sealed class CacheTests : IDisposable
{
    private static readonly string SigningKey = Convert.ToBase64String("0123456789abcdef0123456789abcdef"u8);
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly List<string> _directories = [];
    private RedisServer? _redis;

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        _redis?.Dispose();
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static DecideRequest CpisAlert(string requestId = "") => new()
    {
        Category = "cpis_flag",
        Recipient = "nhs_cpis",
        Purpose = "cpis_alert",
        RequestId = requestId,
        Context = new DecisionContext { SubjectStatuses = { "looked_after" } },
    };

    private async Task<GatekeeperServer> StartAsync(bool redis, params string[] extra)
    {
        // A generous lookup timeout: on a loaded test machine a cold Redis round trip can pass the 20 ms default,
        // and a timed-out lookup is (correctly) a plain miss, which would hide what these tests look for.
        List<string> args = [$"--Gatekeeper:Cache:SigningKey={SigningKey}", "--Gatekeeper:Cache:BreakerOpenDuration=00:00:00.300", "--Gatekeeper:Cache:L2LookupTimeout=00:00:02", .. extra];
        if (redis)
        {
            _redis ??= RedisServer.Start();
            args.Add($"--Gatekeeper:Redis:Configuration={_redis.Configuration("connectTimeout=1000,syncTimeout=1000")}");
        }

        var server = await GatekeeperServer.StartAsync([.. args]);
        _servers.Add(server);
        return server;
    }

    private static List<AuditEntry> Audit(GatekeeperServer server) =>
        [.. new AuditQuery(new AuditOptions { DataDirectory = server.DataDirectory }).ReadAll(new AuditQueryFilter())];

    private static string TierOf(GatekeeperServer server, string decisionId) =>
        Audit(server).Single(e => e.DecisionId == decisionId).FromCache;

    private static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < timeout, $"timed out after {timeout.TotalSeconds:0.#} s waiting until {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Decide_SameQuestionTwice_SecondComesFromL1WithItsOwnIdAndRecord()
    {
        var server = await StartAsync(redis: false);
        using var client = server.CreateClient();

        var first = await client.DecideAsync(CpisAlert("a"));
        var second = await client.DecideAsync(CpisAlert("b"));

        Assert.Equal(first.Decision, second.Decision);
        Assert.Equal(first.RuleId, second.RuleId);
        Assert.NotEqual(first.DecisionId, second.DecisionId);
        Assert.Equal("b", second.RequestId);
        Assert.Equal("miss", TierOf(server, first.DecisionId));
        Assert.Equal("l1", TierOf(server, second.DecisionId));
    }

    [Fact]
    public async Task Decide_ExplainRequested_IsNeverServedFromTheCache()
    {
        var server = await StartAsync(redis: false);
        using var client = server.CreateClient();
        await client.DecideAsync(CpisAlert());

        var request = CpisAlert();
        request.Explain = true;
        var explained = await client.DecideAsync(request);

        Assert.NotEmpty(explained.Explanation);
        Assert.Equal("miss", TierOf(server, explained.DecisionId));
    }

    [Fact]
    public async Task Decide_DecisionMadeByOneInstance_IsAnL2HitOnAnother()
    {
        var a = await StartAsync(redis: true);
        var b = await StartAsync(redis: true);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();

        var fromA = await clientA.DecideAsync(CpisAlert());
        Assert.Equal("miss", TierOf(a, fromA.DecisionId));

        // A writes to Redis in the background; B's first answer to the same question comes from there.
        var fromB = await clientB.DecideAsync(CpisAlert());
        await UntilAsync(async () =>
        {
            if (TierOf(b, fromB.DecisionId) == "l2")
            {
                return true;
            }

            // The write had not landed yet: a fresh instance asks again.
            b = await StartAsync(redis: true);
            using var again = b.CreateClient();
            fromB = await again.DecideAsync(CpisAlert());
            return TierOf(b, fromB.DecisionId) == "l2";
        }, TimeSpan.FromSeconds(10), "another instance answers from Redis");
        Assert.Equal(fromA.RuleId, fromB.RuleId);
        Assert.Equal(fromA.Decision, fromB.Decision);
    }

    [Fact]
    public async Task Decide_ForgedAllowPlantedInRedis_IsNotServed()
    {
        var server = await StartAsync(redis: true);
        using var client = server.CreateClient();
        var deny = new DecideRequest { Category = "child_protection", Recipient = "media", Purpose = "social_care" };
        var version = (await client.DecideAsync(new DecideRequest { Category = "education", Recipient = "police", Purpose = "research" })).PolicyVersion;
        var key = DecisionKey.For(version, new PolicyQuery("child_protection", "media", "social_care")).ToText();
        await using (var redis = await RedisConnection.ConnectAsync(_redis!.Configuration()))
        {
            // A well-formed value naming a real allow rule, but not signed by this fleet.
            await redis.SetAsync("gatekeeper:" + key, (byte[])[1, 10, .. "cpis_alert"u8.ToArray(), .. new byte[16]]);
            await redis.SetAsync("gatekeeper:" + key + "x", "garbage"u8.ToArray());
        }

        var answer = await client.DecideAsync(deny);

        Assert.Equal(Decision.Deny, answer.Decision);
        Assert.Equal("miss", TierOf(server, answer.DecisionId));
        Assert.Contains(server.Logs.Records, r => r.EventId.Name == "CacheInvalidValue");
    }

    [Fact]
    public async Task Decide_RedisKilled_AnswersContinueAndHealthReportsTheCacheDegradedThenRecovers()
    {
        var server = await StartAsync(redis: true);
        using var client = server.CreateClient();
        await client.DecideAsync(CpisAlert());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await client.CheckHealthAsync("gatekeeper.cache.l2")).Status);

        _redis!.Kill();
        for (var i = 0; i < 20; i++)
        {
            // Different questions, so that L1 cannot hide Redis; every one is answered by the policy.
            var answer = await client.DecideAsync(new DecideRequest { Category = "education", Recipient = "police", Purpose = "research", RequestId = "r" + i, Context = new DecisionContext { SubjectStatuses = { $"s{i}" } } });
            Assert.Equal(Decision.Deny, answer.Decision);
        }

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await client.CheckHealthAsync("gatekeeper.cache.l2")).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await client.CheckHealthAsync(string.Empty)).Status);

        _redis.Restart();
        await UntilAsync(async () =>
        {
            await client.DecideAsync(new DecideRequest { Category = "housing", Recipient = "police", Purpose = "research", Context = new DecisionContext { SubjectStatuses = { "probe" + Environment.TickCount64 } } });
            return (await client.CheckHealthAsync("gatekeeper.cache.l2")).Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }, TimeSpan.FromSeconds(20), "the circuit closes again after Redis is back");
    }

    [Fact]
    public async Task Decide_RedisStopsAnswering_AnswersComeWithinTheLookupTimeout()
    {
        var server = await StartAsync(redis: true, "--Gatekeeper:Cache:L2LookupTimeout=00:00:00.050");
        using var client = server.CreateClient();
        await client.DecideAsync(CpisAlert());

        _redis!.Pause();
        try
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < 10; i++)
            {
                var answer = await client.DecideAsync(new DecideRequest { Category = "education", Recipient = "court_uk", Purpose = "court_liaison", Context = new DecisionContext { SubjectStatuses = { $"x{i}" } } });
                Assert.NotEqual(Decision.Unspecified, answer.Decision);
            }

            // Ten lookups that each give up after 50 ms (or are skipped once the circuit opens), far from a hang.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed}");
        }
        finally
        {
            _redis.Resume();
        }
    }

    [Fact]
    public async Task PolicyChange_LoadedByOneInstance_ReachesTheOtherWithinASecond()
    {
        var policy = Directory.CreateTempSubdirectory("gk-fleet-policy-").FullName;
        _directories.Add(policy);
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "policies"), "*.yaml"))
        {
            File.Copy(file, Path.Combine(policy, Path.GetFileName(file)));
        }

        // A watches the files; B does not (as on a share without file events) and must hear it from A.
        var a = await StartAsync(redis: true, $"--Gatekeeper:PolicyPath={policy}");
        var b = await StartAsync(redis: true, $"--Gatekeeper:PolicyPath={policy}", "--Gatekeeper:WatchPolicy=false");
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        var before = (await clientB.DecideAsync(CpisAlert())).PolicyVersion;
        await Task.Delay(300); // let B's subscription reach Redis

        var vocabulary = Path.Combine(policy, "vocabulary.yaml");
        File.WriteAllText(vocabulary, File.ReadAllText(vocabulary) + "\n# edited by a test\n");
        string? newVersion = null;
        await UntilAsync(async () =>
        {
            newVersion = (await clientA.DecideAsync(CpisAlert())).PolicyVersion;
            return newVersion != before;
        }, TimeSpan.FromSeconds(10), "A loads the edited policy");
        var sinceA = Stopwatch.StartNew();
        await UntilAsync(async () => (await clientB.DecideAsync(CpisAlert())).PolicyVersion == newVersion, TimeSpan.FromSeconds(5), "B serves A's version");

        Assert.True(sinceA.Elapsed < TimeSpan.FromSeconds(1), $"B followed after {sinceA.Elapsed.TotalMilliseconds:0} ms");
        Assert.Contains(b.Logs.Records, r => r.EventId.Name == "FleetPolicyVersionSeen");
    }
}
