using Gatekeeper.Protocol;

namespace Gatekeeper.LoadTests;

/// <summary>One second of the run: calls completed in it, their latency percentiles, errors, server memory.</summary>
internal sealed record TimelinePoint(int Second, bool Warmup, long Calls, long Errors, long P50, long P90, long P99, long Max, long? ServerRssBytes);

/// <summary>What a run measured. Latencies are nanoseconds; only calls intended after the warm-up count.</summary>
internal sealed class RunResult
{
    /// <summary>Index of the counter for failures that carried no gRPC status (connection refused, ...).</summary>
    public const int ClientFailure = 17;

    public required Scenario Scenario { get; init; }
    public required Uri Target { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required LatencyHistogram Latency { get; init; }

    /// <summary>Open loop: how late the generator sent each call after its intended time (its own queueing).</summary>
    public required LatencyHistogram SendLag { get; init; }
    public required long[] StatusCounts { get; init; }
    public required Dictionary<string, long> ClientFailures { get; init; }
    public required List<TimelinePoint> Timeline { get; init; }
    public required double MeasuredSeconds { get; init; }
    public required long Decisions { get; init; }
    public required long DistinctRequests { get; init; }
    public required long WarmupErrors { get; init; }
    public required bool Interrupted { get; init; }
    public long? MaxServerRssBytes { get; init; }

    /// <summary>
    /// This process's CPU time over the run's wall time (100 = one core busy). Near 100 with the generator pinned
    /// to one core, the generator set the pace and the rate is a lower bound of what the server could do.
    /// </summary>
    public double GeneratorCpuPercent { get; init; }

    public long Calls => Latency.Count;

    public double Rate => MeasuredSeconds > 0 ? Calls / MeasuredSeconds : 0;

    public double DecisionRate => MeasuredSeconds > 0 ? Decisions / MeasuredSeconds : 0;

    public long Errors
    {
        get
        {
            long errors = 0;
            for (var i = 1; i < StatusCounts.Length; i++)
            {
                errors += StatusCounts[i];
            }

            return errors;
        }
    }

    /// <summary>Errors by status name (gRPC codes, plus "ClientFailure"), only those that occurred.</summary>
    public IEnumerable<(string Status, long Count)> ErrorsByStatus()
    {
        for (var i = 1; i < StatusCounts.Length; i++)
        {
            if (StatusCounts[i] > 0)
            {
                yield return (StatusName(i), StatusCounts[i]);
            }
        }
    }

    public static string StatusName(int code) => code == ClientFailure ? "ClientFailure" : ((StatusCode)code).ToString();
}
