using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;

namespace Gatekeeper.Telemetry;

/// <summary>
/// Wraps the Redis cache with a client span and a <c>db.client.operation.duration</c> measurement per command, so
/// that a trace shows the L2 lookup (and the background write) under the call that caused it. Only installed when
/// telemetry is on; without it the decision cache talks to Redis directly. The key is not recorded: it is the
/// normalised question, which the server span already describes.
/// </summary>
internal sealed class TracingDistributedCache(IDistributedCache inner) : IDistributedCache
{
    private static readonly Operation Get = new("GET");
    private static readonly Operation Set = new("SET");
    private static readonly Operation Refresh = new("EXPIRE");
    private static readonly Operation Remove = new("DEL");
    private static readonly object True = true;
    private static readonly object False = false;

    /// <summary>The cache this one traces.</summary>
    public IDistributedCache Inner => inner;

    async Task<byte[]?> IDistributedCache.GetAsync(string key, CancellationToken token)
    {
        var (span, started) = Start(Get);
        try
        {
            var value = await inner.GetAsync(key, token);
            span?.SetTag(TelemetryTags.CacheHit, value is null ? False : True);
            Stop(Get, span, started, null);
            return value;
        }
        catch (Exception ex)
        {
            Stop(Get, span, started, ex);
            throw;
        }
    }

    async Task IDistributedCache.SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token)
    {
        var (span, started) = Start(Set);
        try
        {
            await inner.SetAsync(key, value, options, token);
            Stop(Set, span, started, null);
        }
        catch (Exception ex)
        {
            Stop(Set, span, started, ex);
            throw;
        }
    }

    async Task IDistributedCache.RefreshAsync(string key, CancellationToken token)
    {
        var (span, started) = Start(Refresh);
        try
        {
            await inner.RefreshAsync(key, token);
            Stop(Refresh, span, started, null);
        }
        catch (Exception ex)
        {
            Stop(Refresh, span, started, ex);
            throw;
        }
    }

    async Task IDistributedCache.RemoveAsync(string key, CancellationToken token)
    {
        var (span, started) = Start(Remove);
        try
        {
            await inner.RemoveAsync(key, token);
            Stop(Remove, span, started, null);
        }
        catch (Exception ex)
        {
            Stop(Remove, span, started, ex);
            throw;
        }
    }

    // The synchronous members are not used by the decision cache; they pass through untraced.
    byte[]? IDistributedCache.Get(string key) => inner.Get(key);

    void IDistributedCache.Set(string key, byte[] value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

    void IDistributedCache.Refresh(string key) => inner.Refresh(key);

    void IDistributedCache.Remove(string key) => inner.Remove(key);

    private static (Activity? Span, long Started) Start(Operation operation)
    {
        var started = GatekeeperMetrics.RedisDuration.Enabled ? Stopwatch.GetTimestamp() : 0;
        var span = GatekeeperMetrics.ActivitySource.StartActivity(operation.Name, ActivityKind.Client, parentContext: default, operation.SpanTags);
        return (span, started);
    }

    private static void Stop(Operation operation, Activity? span, long started, Exception? error)
    {
        if (started != 0)
        {
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (error is null)
            {
                GatekeeperMetrics.RedisDuration.Record(elapsed, operation.SpanTags);
            }
            else
            {
                GatekeeperMetrics.RedisDuration.Record(elapsed, [.. operation.SpanTags, new(TelemetryTags.ErrorType, error.GetType().Name)]);
            }
        }

        if (span is null)
        {
            return;
        }

        if (error is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
            span.SetTag(TelemetryTags.ErrorType, error.GetType().Name);
        }

        span.Dispose();
    }

    /// <summary>A Redis command's span name and attributes, built once.</summary>
    private sealed class Operation(string name)
    {
        public string Name { get; } = name;

        public KeyValuePair<string, object?>[] SpanTags { get; } =
        [
            new(TelemetryTags.DbSystemName, TelemetryTags.Redis),
            new(TelemetryTags.DbOperationName, name),
        ];
    }
}
