using System.Diagnostics;
using System.Globalization;
using Gatekeeper.Client;
using Gatekeeper.V1;

namespace Gatekeeper.LoadTests;

/// <summary>
/// Drives one scenario against one server. Open loop: a dispatcher thread draws Poisson arrivals at the
/// target rate and starts each call at its intended time, never waiting for answers; latency counts from the
/// intended time, so a server (or generator) that falls behind shows it instead of hiding it (no coordinated
/// omission). Closed loop: N callers, each sends, waits for the answer, sends again.
/// </summary>
internal sealed partial class LoadRunner : IDisposable
{
    // Intervals are recorded into a ring and summarised two seconds after they end, so that a call completing
    // at the edge of a second has long finished recording before its slot is read and reused.
    private const int Slots = 8;
    private const int SummariseAfterSeconds = 2;
    private static readonly double TicksPerNano = Stopwatch.Frequency / 1e9;

    private readonly Scenario _scenario;
    private readonly Uri _target;
    private readonly GatekeeperClient[] _clients;
    private readonly RequestMix _mix;
    private readonly IProgress<string>? _progress;
    private readonly int? _serverPid;
    private readonly LatencyHistogram _latency = new();
    private readonly LatencyHistogram _sendLag = new();
    private readonly LatencyHistogram[] _slotLatency = new LatencyHistogram[Slots];
    private readonly long[] _slotErrors = new long[Slots];
    private readonly long[] _statusCounts = new long[RunResult.ClientFailure + 1];
    private readonly Dictionary<string, long> _clientFailures = new(StringComparer.Ordinal);
    private readonly List<TimelinePoint> _timeline = [];
    private long _startTicks;
    private long _measureStartTicks;
    private long _endTicks;
    private long _lastMeasuredCompletion;
    private long _decisions;
    private long _warmupErrors;
    private long _inFlight;
    private long _nextClient;
    private long? _maxRss;
    private long? _lastRss;
    private int _summarisedUpTo;

    public LoadRunner(Scenario scenario, Uri target, IProgress<string>? progress = null, int? serverPid = null)
    {
        _scenario = scenario;
        _target = target;
        _progress = progress;
        _serverPid = serverPid;
        // A run tag keeps distinct requests distinct across runs that share one Redis.
        _mix = new RequestMix(scenario, Convert.ToString(Random.Shared.NextInt64(36L * 36 * 36 * 36 * 36), CultureInfo.InvariantCulture)!);
        _clients = new GatekeeperClient[scenario.Connections];
        for (var i = 0; i < _clients.Length; i++)
        {
            _clients[i] = new GatekeeperClient(new GatekeeperClientOptions { Address = target, DefaultDeadline = scenario.Deadline });
        }

        for (var i = 0; i < Slots; i++)
        {
            _slotLatency[i] = new LatencyHistogram();
        }
    }

    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        await PrimeAsync(cancellationToken);

        _startTicks = Stopwatch.GetTimestamp();
        _measureStartTicks = _startTicks + ToTicks(_scenario.Warmup);
        _endTicks = _measureStartTicks + ToTicks(_scenario.Duration);
        _lastMeasuredCompletion = _measureStartTicks;
        var cpuAtStart = Environment.CpuUsage.TotalTime;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var ticker = TickAsync(stop.Token);
        var load = _scenario.Engine == LoadEngine.Raw ? RunOnOwnThread("raw engine", RawLoop, cancellationToken)
            : _scenario.Mode == LoadMode.Open ? RunOnOwnThread("open-loop dispatcher", Dispatch, cancellationToken)
            : RunClosedLoopAsync(cancellationToken);
        await load;
        await DrainAsync();
        var cpu = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalSeconds;
        var wall = (Stopwatch.GetTimestamp() - _startTicks) / (double)Stopwatch.Frequency;
        await stop.CancelAsync();
        await ticker;
        SummariseUpTo(int.MaxValue);

        var measured = Math.Max(0, (_lastMeasuredCompletion - _measureStartTicks) / (double)Stopwatch.Frequency);
        var failures = new Dictionary<string, long>(_clientFailures, StringComparer.Ordinal);
        return new RunResult
        {
            Scenario = _scenario,
            Target = _target,
            StartedAt = startedAt,
            Latency = _latency,
            SendLag = _sendLag,
            StatusCounts = _statusCounts,
            ClientFailures = failures,
            Timeline = _timeline,
            MeasuredSeconds = measured,
            Decisions = Interlocked.Read(ref _decisions),
            DistinctRequests = _mix.DistinctCount,
            WarmupErrors = Interlocked.Read(ref _warmupErrors),
            Interrupted = cancellationToken.IsCancellationRequested,
            MaxServerRssBytes = _maxRss,
            GeneratorCpuPercent = wall > 0 ? 100 * cpu / wall : 0,
        };
    }

    public void Dispose()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }

    /// <summary>Sends every hot request once, so that "warm cache" means warm before the clock starts; opens the connections.</summary>
    private async Task PrimeAsync(CancellationToken cancellationToken)
    {
        var hot = _mix.HotSet;
        var next = -1;
        var callers = new Task[Math.Min(16, hot.Count)];
        for (var c = 0; c < callers.Length; c++)
        {
            var client = _clients[c % _clients.Length];
            callers[c] = Task.Run(
                async () =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < hot.Count && !cancellationToken.IsCancellationRequested)
                    {
                        try
                        {
                            await client.DecideAsync(hot[i], cancellationToken: cancellationToken);
                        }
                        catch (RpcException)
                        {
                            // Counted in the run proper; a server that fails here fails there too.
                        }
                    }
                },
                cancellationToken);
        }

        try
        {
            await Task.WhenAll(callers);
        }
        catch (OperationCanceledException)
        {
            // Interrupted: the run reports what it has (nothing).
        }

        // Make sure every connection exists before timing starts.
        for (var c = callers.Length; c < _clients.Length; c++)
        {
            try
            {
                await _clients[c].DecideAsync(hot[c % hot.Count], cancellationToken: cancellationToken);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                // As above.
            }
        }
    }

    private static Task RunOnOwnThread(string name, Action<CancellationToken> loop, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                loop(cancellationToken);
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    private void Dispatch(CancellationToken cancellationToken)
    {
        NativeWait.UseFineTimerSlack();
        var random = new Random(_scenario.Seed + 1);
        var meanGapTicks = Stopwatch.Frequency / _scenario.Rate;
        var longestSleep = Stopwatch.Frequency / 1000; // wake at least every millisecond to see a cancellation
        var backOff = Stopwatch.Frequency / 20_000;   // 50 µs while maxInFlight calls are outstanding
        double next = _startTicks;
        while (!cancellationToken.IsCancellationRequested)
        {
            var intended = (long)next;
            if (intended >= _endTicks)
            {
                return;
            }

            var now = Stopwatch.GetTimestamp();
            if (now < intended)
            {
                NativeWait.Sleep(Math.Min(intended - now, longestSleep));
                continue;
            }

            if (Interlocked.Read(ref _inFlight) >= _scenario.MaxInFlight)
            {
                // The server (or this process) is behind: arrivals wait here, and their latency still counts from the intended time.
                NativeWait.Sleep(backOff);
                continue;
            }

            if (intended >= _measureStartTicks)
            {
                _sendLag.Record(ToNanos(now - intended));
            }

            _ = IssueAsync(random, intended);
            // Exponential gaps make a Poisson process: arrivals are bursty the way independent callers are.
            next += -Math.Log(1.0 - random.NextDouble()) * meanGapTicks;
        }
    }

    private async Task RunClosedLoopAsync(CancellationToken cancellationToken)
    {
        var callers = new Task[_scenario.Concurrency];
        for (var i = 0; i < callers.Length; i++)
        {
            var random = new Random(_scenario.Seed + 1 + i);
            callers[i] = Task.Run(
                async () =>
                {
                    long start;
                    while ((start = Stopwatch.GetTimestamp()) < _endTicks && !cancellationToken.IsCancellationRequested)
                    {
                        await IssueAsync(random, start);
                    }
                },
                CancellationToken.None);
        }

        await Task.WhenAll(callers);
    }

    private async Task IssueAsync(Random random, long intended)
    {
        Interlocked.Increment(ref _inFlight);
        var client = _clients[(int)((ulong)Interlocked.Increment(ref _nextClient) % (ulong)_clients.Length)];
        var status = 0;
        var decisions = 1;
        try
        {
            if (_scenario.BatchShare > 0 && random.NextDouble() < _scenario.BatchShare)
            {
                var batch = _mix.NextBatch(random, out _);
                decisions = batch.Requests.Count;
                await client.DecideBatchAsync(batch);
            }
            else
            {
                await client.DecideAsync(_mix.NextRequest(random, out _));
            }
        }
        catch (RpcException ex)
        {
            status = (int)ex.StatusCode is > 0 and < RunResult.ClientFailure ? (int)ex.StatusCode : RunResult.ClientFailure;
        }
        catch (Exception ex)
        {
            // Anything without a gRPC status (refused connection, protocol error) is counted, never fatal to the run.
            status = RunResult.ClientFailure;
            lock (_clientFailures)
            {
                _clientFailures[ex.GetType().Name] = _clientFailures.GetValueOrDefault(ex.GetType().Name) + 1;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }

        Record(intended, Stopwatch.GetTimestamp(), status, decisions);
    }

    private void Record(long intended, long completed, int status, int decisions)
    {
        var latency = ToNanos(completed - intended);
        var second = (int)((completed - _startTicks) / Stopwatch.Frequency);
        var slot = second % Slots;
        _slotLatency[slot].Record(latency);
        if (status != 0)
        {
            Interlocked.Increment(ref _slotErrors[slot]);
        }

        if (intended < _measureStartTicks)
        {
            if (status != 0)
            {
                Interlocked.Increment(ref _warmupErrors);
            }

            return;
        }

        _latency.Record(latency);
        Interlocked.Increment(ref _statusCounts[status]);
        Interlocked.Add(ref _decisions, decisions);
        var last = Volatile.Read(ref _lastMeasuredCompletion);
        while (completed > last)
        {
            var seen = Interlocked.CompareExchange(ref _lastMeasuredCompletion, completed, last);
            if (seen == last)
            {
                break;
            }

            last = seen;
        }
    }

    /// <summary>Waits for calls still in flight (bounded by the deadline: every call ends by then).</summary>
    private async Task DrainAsync()
    {
        var limit = Stopwatch.GetTimestamp() + ToTicks(_scenario.Deadline + TimeSpan.FromSeconds(2));
        while (Interlocked.Read(ref _inFlight) > 0 && Stopwatch.GetTimestamp() < limit)
        {
            await Task.Delay(5);
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var total = _scenario.Warmup + _scenario.Duration;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var elapsed = (Stopwatch.GetTimestamp() - _startTicks) / (double)Stopwatch.Frequency;
                SampleRss();
                SummariseUpTo((int)elapsed - SummariseAfterSeconds);
                if (_progress is not null)
                {
                    // The second that just ended, read while its last calls may still be recording: good enough for a progress line.
                    var slot = ((int)elapsed - 1 + Slots) % Slots;
                    var h = _slotLatency[slot];
                    var phase = elapsed < _scenario.Warmup.TotalSeconds ? "warm-up" : "measure";
                    _progress.Report(string.Create(
                        CultureInfo.InvariantCulture,
                        $"[{elapsed,5:0}s/{total.TotalSeconds:0}s {phase}] {h.Count,7:N0} calls/s  p50 {Units.FormatNanos(h.ValueAtPercentile(50)),7}  p99 {Units.FormatNanos(h.ValueAtPercentile(99)),7}  max {Units.FormatNanos(h.Max),7}  in flight {Interlocked.Read(ref _inFlight),5}  errors {Interlocked.Read(ref _warmupErrors) + Errors(),5}{RssText()}"));
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private long Errors()
    {
        long errors = 0;
        for (var i = 1; i < _statusCounts.Length; i++)
        {
            errors += Interlocked.Read(ref _statusCounts[i]);
        }

        return errors;
    }

    private string RssText() => _timeline.Count > 0 && _timeline[^1].ServerRssBytes is { } rss
        ? string.Create(CultureInfo.InvariantCulture, $"  server RSS {rss / (1024.0 * 1024):0} MB")
        : string.Empty;

    private void SampleRss()
    {
        if (_serverPid is not { } pid)
        {
            return;
        }

        _lastRss = ServerProcess.ReadRssBytes(pid);
        var elapsed = Stopwatch.GetTimestamp();
        if (_lastRss is { } rss && elapsed >= _measureStartTicks)
        {
            _maxRss = Math.Max(_maxRss ?? 0, rss);
        }
    }

    private void SummariseUpTo(int lastSecond)
    {
        var finalSecond = (int)((Math.Max(Stopwatch.GetTimestamp(), _endTicks) - _startTicks) / Stopwatch.Frequency);
        lastSecond = Math.Min(lastSecond, finalSecond);
        var warmupSeconds = _scenario.Warmup.TotalSeconds;
        for (; _summarisedUpTo <= lastSecond; _summarisedUpTo++)
        {
            var slot = _summarisedUpTo % Slots;
            var h = _slotLatency[slot];
            var errors = Interlocked.Exchange(ref _slotErrors[slot], 0);
            _timeline.Add(new TimelinePoint(
                _summarisedUpTo,
                _summarisedUpTo < warmupSeconds,
                h.Count,
                errors,
                h.ValueAtPercentile(50),
                h.ValueAtPercentile(90),
                h.ValueAtPercentile(99),
                h.Max,
                _lastRss));
            h.Clear();
        }
    }

    private static long ToTicks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);

    private static long ToNanos(long ticks) => (long)(ticks / TicksPerNano);
}

/// <summary>Reads a local process's resident memory from /proc (Linux), for the soak's RSS curve.</summary>
internal static class ServerProcess
{
    public static long? ReadRssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The process has gone: no figure rather than a wrong one.
        }

        return null;
    }
}
