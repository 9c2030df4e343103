// Decision latency by cache tier, through DecisionPipeline.DecideAsync without the audit log (its cost is
// measured separately): an L1 hit, an L2 hit (L1 off, a real redis-server) and a miss (both off: the policy
// evaluates). Needs a redis-server; the L2 case uses GK_BENCH_REDIS (default 127.0.0.1:6379).
// Run: redis-server --port 6379 --save '' & dotnet run -c Release --project perf/Gatekeeper.Benchmarks -- --filter '*DecisionPipeline*'
//
// Last results (2026-11-22, --job short, redis-server on loopback, shared 2-core VM at load average ~20):
// | Method | Mean      | Error      | StdDev     | Ratio | Allocated |
// |------- |----------:|-----------:|-----------:|------:|----------:|
// | L1Hit  |  2.567 us |   5.792 us |  0.3175 us |  1.01 |     360 B |
// | L2Hit  | 97.295 us | 219.041 us | 12.0064 us | 38.32 |    2666 B |
// | Miss   |  2.936 us |   2.870 us |  0.1573 us |  1.16 |     360 B |
using BenchmarkDotNet.Attributes;
using Gatekeeper.Caching;
using Gatekeeper.Decisions;
using Gatekeeper.Policy;
using Gatekeeper.Redis;
using Gatekeeper.V1;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Benchmarks;

[MemoryDiagnoser]
public class DecisionPipelineBenchmarks
{
    private static readonly DecideRequest Request = new()
    {
        Category = "health_disability",
        Recipient = "gp_surgery",
        Purpose = "social_care",
        Context = new DecisionContext { SubjectStatuses = { "child_in_need" }, SubjectIsMinor = true },
    };

    private PolicyProvider _policies = null!;
    private DecisionPipeline _l1 = null!;
    private DecisionPipeline _l2 = null!;
    private DecisionPipeline _miss = null!;
    private RedisConnection _redis = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _policies = new PolicyProvider(Path.Combine(AppContext.BaseDirectory, "policies"), NullLogger<PolicyProvider>.Instance);
        var time = TimeProvider.System;
        _l1 = new DecisionPipeline(_policies, new L1DecisionCache(100_000, 32 << 20), null, null, time);
        _miss = new DecisionPipeline(_policies, new L1DecisionCache(0, 0), null, null, time);
        _redis = await RedisConnection.ConnectAsync(Environment.GetEnvironmentVariable("GK_BENCH_REDIS") ?? "127.0.0.1:6379");
        var l2 = new L2DecisionCache(new RedisCache(_redis, "bench:"), new CacheOptions { L2LookupTimeout = TimeSpan.FromSeconds(1) }, time, NullLogger<L2DecisionCache>.Instance);
        _l2 = new DecisionPipeline(_policies, new L1DecisionCache(0, 0), l2, null, time);
        await _l1.DecideAsync(Request, "bench", CancellationToken.None);
        await _l2.DecideAsync(Request, "bench", CancellationToken.None); // a miss that writes to Redis
        await Task.Delay(200);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _redis.DisposeAsync();
        _policies.Dispose();
    }

    [Benchmark(Baseline = true)]
    public ValueTask<DecideResponse> L1Hit() => _l1.DecideAsync(Request, "bench", CancellationToken.None);

    [Benchmark]
    public ValueTask<DecideResponse> L2Hit() => _l2.DecideAsync(Request, "bench", CancellationToken.None);

    [Benchmark]
    public ValueTask<DecideResponse> Miss() => _miss.DecideAsync(Request, "bench", CancellationToken.None);
}
