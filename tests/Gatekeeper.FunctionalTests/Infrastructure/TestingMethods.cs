using System.Collections.Concurrent;
using System.Globalization;
using Gatekeeper.Protocol;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Infrastructure;

/// <summary>
/// Extra gRPC methods the test server hosts under <c>/gatekeeper.testing.Testing/</c>, for behaviour the real
/// services cannot provoke on demand. They reuse DecideRequest/DecideResponse so that every peer can call them
/// with the code it already generates for the gatekeeper.
/// </summary>
public static class TestingMethods
{
    /// <summary>The service name on the wire.</summary>
    public const string Service = "gatekeeper.testing.Testing";

    /// <summary>Waits until its token is cancelled; with request_id "delay_N" it answers OK after N ms instead.</summary>
    public const string Wait = "/" + Service + "/Wait";

    /// <summary>Echoes the caller's x-* metadata into response headers (echo-KEY), trailers (echo-trailer-KEY) and the body.</summary>
    public const string Echo = "/" + Service + "/Echo";

    /// <summary>Throws an exception whose message holds <see cref="SecretDetail"/>.</summary>
    public const string Throw = "/" + Service + "/Throw";

    /// <summary>Fails with FAILED_PRECONDITION and <see cref="FailDetail"/>.</summary>
    public const string Fail = "/" + Service + "/Fail";

    /// <summary>What the Throw handler's exception says; it must never reach a caller.</summary>
    public const string SecretDetail = "secret internal detail: Password=hunter2";

    /// <summary>A status message with non-ASCII characters, '%' and a tab, for percent-encoding checks.</summary>
    public const string FailDetail = "Refusé: données ☃ 100% sûres\tet \"citées\"";

    /// <summary>
    /// <see cref="FailDetail"/> as grpc-message must carry it: UTF-8, every byte outside 0x20-0x7E and '%' as %XX
    /// (upper-case hex, as grpc-dotnet and C-core write it).
    /// </summary>
    public const string FailDetailPercentEncoded = "Refus%C3%A9: donn%C3%A9es %E2%98%83 100%25 s%C3%BBres%09et \"cit%C3%A9es\"";

    /// <summary>The request_id prefix that makes Wait answer after a delay.</summary>
    public const string DelayPrefix = "delay_";

    /// <summary>Creates the methods; <paramref name="state"/> lets tests observe the Wait handler.</summary>
    public static IEnumerable<ServerMethod> Create(TestingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        yield return ServerMethod.Unary<DecideRequest, DecideResponse>(Service, "Wait", DecideRequest.Parser, (r, c) => WaitAsync(state, r, c));
        yield return ServerMethod.Unary<DecideRequest, DecideResponse>(Service, "Echo", DecideRequest.Parser, EchoAsync);
        yield return ServerMethod.Unary<DecideRequest, DecideResponse>(Service, "Throw", DecideRequest.Parser, static (_, _) => throw new InvalidOperationException(SecretDetail));
        yield return ServerMethod.Unary<DecideRequest, DecideResponse>(Service, "Fail", DecideRequest.Parser, static (_, _) => throw new Transport.RpcException(StatusCode.FailedPrecondition, FailDetail));
    }

    private static async ValueTask<DecideResponse> WaitAsync(TestingState state, DecideRequest request, ServerCallContext context)
    {
        var call = state.WaitCall(request.RequestId);
        call.Started.TrySetResult(context.Deadline);
        var delay = request.RequestId.StartsWith(DelayPrefix, StringComparison.Ordinal)
            ? TimeSpan.FromMilliseconds(int.Parse(request.RequestId.AsSpan(DelayPrefix.Length), CultureInfo.InvariantCulture))
            : Timeout.InfiniteTimeSpan;
        try
        {
            await Task.Delay(delay, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            call.Cancelled.TrySetResult();
            throw;
        }

        call.Completed.TrySetResult();
        return new DecideResponse { RequestId = request.RequestId, Reason = "waited" };
    }

    private static ValueTask<DecideResponse> EchoAsync(DecideRequest request, ServerCallContext context)
    {
        var response = new DecideResponse { RequestId = request.RequestId };
        foreach (var (key, values) in context.RequestHeaders)
        {
            if (!key.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            if (BinaryMetadata.IsBinaryKey(key))
            {
                var bytes = context.GetRequestBinaryHeader(key) ?? [];
                context.AddResponseHeader("echo-" + key, bytes);
                context.AddResponseTrailer("echo-trailer-" + key, bytes);
                response.Explanation.Add($"{key}={Convert.ToHexStringLower(bytes)}");
            }
            else
            {
                var value = values.ToString();
                context.AddResponseHeader("echo-" + key, value);
                context.AddResponseTrailer("echo-trailer-" + key, value);
                response.Explanation.Add($"{key}={value}");
            }
        }

        response.Explanation.Add(context.Deadline is null ? "deadline=none" : "deadline=set");
        response.Explanation.Add("grpc-encoding=" + (context.GetRequestHeader("grpc-encoding") ?? "none"));
        return ValueTask.FromResult(response);
    }
}

/// <summary>What the Wait handler saw, per request_id.</summary>
public sealed class TestingState
{
    private readonly ConcurrentDictionary<string, WaitCall> _waits = new(StringComparer.Ordinal);

    /// <summary>The Wait call with this request_id (created on first use by either side).</summary>
    public WaitCall WaitCall(string requestId) => _waits.GetOrAdd(requestId, static _ => new WaitCall());
}

/// <summary>Signals from one Wait call.</summary>
public sealed class WaitCall
{
    /// <summary>Completes when the handler starts, with the deadline it was given.</summary>
    public TaskCompletionSource<DateTimeOffset?> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the handler's token is cancelled.</summary>
    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the handler returns its answer.</summary>
    public TaskCompletionSource Completed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
