// Results: see the table at the end of this comment block and src/Gatekeeper.Redis/README.md.
//
// Run (server on core 0, client on core 1, as every comparison in DESIGN.md):
//   taskset -c 0 redis-server --port 6390 --save '' --appendonly no &
//   GATEKEEPER_REDIS_BENCH=127.0.0.1:6390 taskset -c 1 dotnet run -c Release --project perf/Gatekeeper.Benchmarks -- --filter '*RedisBenchmarks*'
//   taskset -c 1 redis-benchmark -p 6390 -t get,set -n 200000 -c 50 -P 1 -q
//
// Last run, 2026-11-22, 2 shared cores (load average ~19 from parallel builds: compare ratios, not absolutes),
// redis-server 7.0.15 on core 0, client on core 1, 3-byte values, in-process BenchmarkDotNet 0.14.0:
//
// | Method | Callers | Mean     | Error    | StdDev    | Allocated |   ops/s |
// | Get    | 50      | 8.517 us | 4.927 us | 2.1878 us |     320 B | ~117 k  |
// | Set    | 50      | 6.204 us | 2.082 us | 0.9245 us |     336 B | ~161 k  |
// | Get    | 800     | 3.401 us | 1.064 us | 0.4726 us |     322 B | ~294 k  |
// | Set    | 800     | 3.506 us | 1.077 us | 0.5634 us |     338 B | ~285 k  |
//
// redis-benchmark -c 50 in the same session, before / after: -P 1  GET 15.9k / 17.6k, SET 14.4k / 21.8k req/s;
//                                                             -P 16 GET 177k / 315k,  SET 206k / 229k req/s.

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Gatekeeper.Redis;

namespace Gatekeeper.Benchmarks;

/// <summary>
/// GET and SET throughput of the Gatekeeper Redis client with <see cref="Callers"/> concurrent callers, each
/// awaiting one command at a time (closed loop, like redis-benchmark's <c>-c 50 -P 1</c> clients). All callers
/// share one multiplexed connection, so the client pipelines across callers by itself.
/// ops/s = 1e9 / Mean(ns). Needs a running redis-server: GATEKEEPER_REDIS_BENCH (default 127.0.0.1:6379).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
public class RedisBenchmarks
{
    private const int OperationsPerInvoke = 50_000;
    private static readonly byte[] Value = new byte[3]; // redis-benchmark's default payload size (-d 3)

    private RedisConnection _connection = null!;

    /// <summary>Concurrent callers: 50 as redis-benchmark -c 50; 800 = as many commands in flight as -c 50 -P 16.</summary>
    [Params(50, 800)]
    public int Callers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var endpoint = Environment.GetEnvironmentVariable("GATEKEEPER_REDIS_BENCH") ?? "127.0.0.1:6379";
        _connection = RedisConnection.ConnectAsync(endpoint).GetAwaiter().GetResult();
        _connection.SetAsync("key:__rand_int__", Value).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _connection.Dispose();

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public Task Get() => RunAsync(static c => c.GetAsync("key:__rand_int__").AsTask());

    [Benchmark(OperationsPerInvoke = OperationsPerInvoke)]
    public Task Set() => RunAsync(static c => c.SetAsync("key:__rand_int__", Value).AsTask());

    private Task RunAsync(Func<RedisConnection, Task> operation)
    {
        var perCaller = OperationsPerInvoke / Callers;
        var callers = new Task[Callers];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = Task.Run(async () =>
            {
                for (var n = 0; n < perCaller; n++)
                {
                    await operation(_connection).ConfigureAwait(false);
                }
            });
        }

        return Task.WhenAll(callers);
    }

    /// <summary>In-process: no separate generated project to build on a 2-core machine; few iterations because each is 50,000 round trips.</summary>
    private sealed class InProcessConfig : ManualConfig
    {
        public InProcessConfig() =>
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(8));
    }
}
