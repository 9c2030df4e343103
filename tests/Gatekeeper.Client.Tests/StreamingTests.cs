using Gatekeeper.Client.Tests.Infrastructure;
using Gatekeeper.Protocol;
using Grpc.Health.V1;
using static Grpc.Health.V1.HealthCheckResponse.Types;

namespace Gatekeeper.Client.Tests;

public sealed class StreamingTests
{
    private static byte[] Statuses(params ServingStatus[] statuses)
    {
        var frames = new List<byte[]>();
        foreach (var status in statuses)
        {
            frames.Add(Wire.Frame(new HealthCheckResponse { Status = status }));
        }

        return Wire.Concat([.. frames]);
    }

    private static async Task<List<ServingStatus>> CollectAsync(IAsyncEnumerable<HealthCheckResponse> call)
    {
        var seen = new List<ServingStatus>();
        await foreach (var response in call)
        {
            seen.Add(response.Status);
        }

        return seen;
    }

    [Fact]
    public async Task WatchHealthAsync_SeveralMessages_YieldsAllThenTrailers()
    {
        var response = TestClient.Ok(Statuses(ServingStatus.NotServing, ServingStatus.Serving, ServingStatus.NotServing), headers: [("x-node", "a")]);
        var handler = new FakeHandler(() => response);
        using var client = TestClient.Create(handler);

        var call = client.WatchHealthAsync("gatekeeper.v1.Gatekeeper");
        var seen = await CollectAsync(call);

        Assert.Equal([ServingStatus.NotServing, ServingStatus.Serving, ServingStatus.NotServing], seen);
        Assert.Equal("/grpc.health.v1.Health/Watch", handler.LastRequest!.Uri.AbsolutePath);
        Assert.Equal("a", call.ResponseHeaders!.GetValue("x-node"));
        Assert.Equal("0", call.Trailers!.GetValue("grpc-status"));
    }

    [Fact]
    public async Task WatchHealthAsync_NotEnumerated_SendsNothing()
    {
        var handler = new FakeHandler(() => TestClient.Ok([]));
        using var client = TestClient.Create(handler);

        _ = client.WatchHealthAsync();

        await Task.Yield();
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task WatchHealthAsync_ErrorAfterMessages_YieldsThenThrows()
    {
        var response = TestClient.Ok(Statuses(ServingStatus.Serving), trailers: [("grpc-status", "14"), ("grpc-message", "shutting down")]);
        using var client = TestClient.Create(new FakeHandler(() => response));
        var seen = new List<ServingStatus>();

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var message in client.WatchHealthAsync())
            {
                seen.Add(message.Status);
            }
        });

        Assert.Equal([ServingStatus.Serving], seen);
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal("shutting down", ex.Detail);
    }

    [Fact]
    public async Task WatchHealthAsync_UnknownService_ThrowsNotFound()
    {
        using var client = TestClient.Create(new FakeHandler(() => TestClient.TrailersOnly(5, "unknown service")));

        var ex = await Assert.ThrowsAsync<RpcException>(() => CollectAsync(client.WatchHealthAsync("nope")));

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task WatchHealthAsync_TrailersOnlyOk_YieldsNothing()
    {
        using var client = TestClient.Create(new FakeHandler(() => TestClient.TrailersOnly(0)));

        Assert.Empty(await CollectAsync(client.WatchHealthAsync()));
    }

    [Fact]
    public async Task WatchHealthAsync_ConsumerStopsEarly_ResetsStream()
    {
        var body = new ScriptedStream(Statuses(ServingStatus.Serving, ServingStatus.NotServing), hangAtEnd: true);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Response(new StreamContent(body))));

        await foreach (var message in client.WatchHealthAsync())
        {
            Assert.Equal(ServingStatus.Serving, message.Status);
            break;
        }

        Assert.True(body.Disposed);
    }

    [Fact]
    public async Task WatchHealthAsync_CancelledWhileWaiting_ThrowsCancelledAndResetsStream()
    {
        var body = new ScriptedStream(Statuses(ServingStatus.Serving), hangAtEnd: true);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Response(new StreamContent(body))));
        using var cts = new CancellationTokenSource();

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var message in client.WatchHealthAsync(cancellationToken: cts.Token))
            {
                await cts.CancelAsync();
            }
        });

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.True(body.Disposed);
    }

    [Fact]
    public async Task WatchHealthAsync_EnumeratorToken_CancelsToo()
    {
        var body = new ScriptedStream([], hangAtEnd: true);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Response(new StreamContent(body))));
        using var cts = new CancellationTokenSource();
        var call = client.WatchHealthAsync();

        var reading = CollectAsync(call.WithCancellation(cts.Token).Unwrap());
        await body.Hanging.Task;
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => reading);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    [Fact]
    public async Task WatchHealthAsync_DeadlinePasses_ThrowsDeadlineExceeded()
    {
        var clock = new ManualTimeProvider();
        var body = new ScriptedStream(Statuses(ServingStatus.Serving), hangAtEnd: true);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Response(new StreamContent(body))), o => o.TimeProvider = clock);

        var reading = CollectAsync(client.WatchHealthAsync(options: new CallOptions { Timeout = TimeSpan.FromSeconds(30) }));
        await body.Hanging.Task;
        clock.Advance(TimeSpan.FromSeconds(30));

        var ex = await Assert.ThrowsAsync<RpcException>(() => reading);
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(body.Disposed);
    }

    [Fact]
    public async Task ServerStreamingCall_EnumeratedTwice_Throws()
    {
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Ok([])));
        var call = client.ServerStreamingCallAsync(GatekeeperMethods.HealthWatch, new HealthCheckRequest(), HealthCheckResponse.Parser);
        await CollectAsync(call);

        Assert.Throws<InvalidOperationException>(() => call.GetAsyncEnumerator());
    }

    [Fact]
    public async Task ServerStreamingCall_OversizedMessage_ThrowsResourceExhausted()
    {
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Ok(Wire.Prefix(0, 4 * 1024 * 1024 + 1))));

        var ex = await Assert.ThrowsAsync<RpcException>(() => CollectAsync(client.WatchHealthAsync()));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }
}

internal static class ConfiguredEnumerableExtensions
{
    public static async IAsyncEnumerable<T> Unwrap<T>(this System.Runtime.CompilerServices.ConfiguredCancelableAsyncEnumerable<T> source)
    {
        await foreach (var item in source)
        {
            yield return item;
        }
    }
}
