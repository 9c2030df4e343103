using Gatekeeper.Client.Tests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;

namespace Gatekeeper.Client.Tests;

public sealed class DeadlineAndCancellationTests
{
    private static readonly DecideRequest Request = new() { Category = "health" };

    private static FakeHandler OkHandler() => new(() => TestClient.Ok(Wire.Frame(new DecideResponse())));

    [Theory]
    [InlineData(250, "250000u")]
    [InlineData(1, "1000000n")]
    [InlineData(100_000, "100000m")]
    public async Task DecideAsync_Timeout_SendsGrpcTimeout(int milliseconds, string expected)
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler, o => o.TimeProvider = new ManualTimeProvider());

        await client.DecideAsync(Request, new CallOptions { Timeout = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.Equal(expected, handler.LastRequest!.Headers["grpc-timeout"]);
    }

    [Fact]
    public async Task DecideAsync_AbsoluteDeadline_SendsRemainingTime()
    {
        var clock = new ManualTimeProvider();
        var handler = OkHandler();
        using var client = TestClient.Create(handler, o => o.TimeProvider = clock);

        await client.DecideAsync(Request, new CallOptions { Deadline = clock.GetUtcNow().UtcDateTime.AddSeconds(2) });

        Assert.Equal("2000000u", handler.LastRequest!.Headers["grpc-timeout"]);
    }

    [Fact]
    public async Task DecideAsync_TimeoutAndDeadline_EarlierWins()
    {
        var clock = new ManualTimeProvider();
        var handler = OkHandler();
        using var client = TestClient.Create(handler, o => o.TimeProvider = clock);

        await client.DecideAsync(Request, new CallOptions { Deadline = clock.GetUtcNow().UtcDateTime.AddSeconds(2), Timeout = TimeSpan.FromSeconds(1) });

        Assert.Equal("1000000u", handler.LastRequest!.Headers["grpc-timeout"]);
    }

    [Fact]
    public async Task DecideAsync_DefaultDeadline_IsSent()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler, o => { o.DefaultDeadline = TimeSpan.FromSeconds(5); o.TimeProvider = new ManualTimeProvider(); });

        await client.DecideAsync(Request);

        Assert.Equal("5000000u", handler.LastRequest!.Headers["grpc-timeout"]);
    }

    [Fact]
    public async Task DecideAsync_InfiniteTimeout_OverridesDefaultDeadline()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler, o => o.DefaultDeadline = TimeSpan.FromSeconds(5));

        await client.DecideAsync(Request, new CallOptions { Timeout = Timeout.InfiniteTimeSpan });

        Assert.False(handler.LastRequest!.Headers.ContainsKey("grpc-timeout"));
    }

    [Fact]
    public async Task DecideAsync_HugeTimeout_IsSentButNotTimed()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);

        await client.DecideAsync(Request, new CallOptions { Timeout = TimeSpan.MaxValue });

        Assert.Equal("99999999H", handler.LastRequest!.Headers["grpc-timeout"]);
    }

    [Fact]
    public async Task DecideAsync_DeadlineAlreadyPassed_FailsWithoutSending()
    {
        var clock = new ManualTimeProvider();
        var handler = OkHandler();
        using var client = TestClient.Create(handler, o => o.TimeProvider = clock);

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            client.DecideAsync(Request, new CallOptions { Deadline = clock.GetUtcNow().UtcDateTime.AddMilliseconds(-1) }));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task DecideAsync_DeadlinePassesBeforeHeaders_ThrowsDeadlineExceeded()
    {
        var clock = new ManualTimeProvider();
        var handler = FakeHandler.Hanging();
        using var client = TestClient.Create(handler, o => o.TimeProvider = clock);

        var call = client.DecideAsync(Request, new CallOptions { Timeout = TimeSpan.FromMilliseconds(100) });
        await handler.Entered.Task;
        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(call.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Contains("deadline", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_DeadlinePassesWhileReadingBody_ThrowsDeadlineExceededAndResetsStream()
    {
        var clock = new ManualTimeProvider();
        var body = new ScriptedStream(Wire.Prefix(0, 10), hangAtEnd: true);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Response(new StreamContent(body))), o => o.TimeProvider = clock);

        var call = client.DecideAsync(Request, new CallOptions { Timeout = TimeSpan.FromSeconds(1) });
        await body.Hanging.Task;
        clock.Advance(TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(body.Disposed);
    }

    [Fact]
    public async Task DecideAsync_DeadlineAndCallerToken_CallerCancelIsCancelled()
    {
        var handler = FakeHandler.Hanging();
        using var client = TestClient.Create(handler, o => o.TimeProvider = new ManualTimeProvider());
        using var cts = new CancellationTokenSource();

        var call = client.DecideAsync(Request, new CallOptions { Timeout = TimeSpan.FromSeconds(1) }, cts.Token);
        await handler.Entered.Task;
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    [Fact]
    public async Task DecideAsync_TokenAlreadyCancelled_FailsWithoutSending()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Request, cancellationToken: new CancellationToken(canceled: true)));

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.Equal(0, handler.Calls);
    }

    [Fact]
    public async Task DecideAsync_CancelledBeforeHeaders_ThrowsCancelled()
    {
        var handler = FakeHandler.Hanging();
        using var client = TestClient.Create(handler);
        using var cts = new CancellationTokenSource();

        var call = client.DecideAsync(Request, cancellationToken: cts.Token);
        await handler.Entered.Task;
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.IsAssignableFrom<OperationCanceledException>(ex.InnerException);
    }

    [Fact]
    public async Task DecideAsync_CancelledWhileReadingBody_ThrowsCancelledAndResetsStream()
    {
        var body = new ScriptedStream([], hangAtEnd: true);
        using var client = TestClient.Create(new FakeHandler(() => TestClient.Response(new StreamContent(body))));
        using var cts = new CancellationTokenSource();

        var call = client.DecideAsync(Request, cancellationToken: cts.Token);
        await body.Hanging.Task;
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.True(body.Disposed);
    }

    [Fact]
    public async Task DecideAsync_HttpClientTimeout_ThrowsDeadlineExceeded()
    {
        using var client = new GatekeeperClient(new HttpClient(FakeHandler.Hanging()) { BaseAddress = TestClient.Address, Timeout = TimeSpan.FromMilliseconds(50) });

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Request));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Contains("HttpClient.Timeout", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideAsync_ServerDeadlineExceeded_IsPassedThrough()
    {
        using var client = TestClient.Create(new FakeHandler(() => TestClient.TrailersOnly(4, "Deadline Exceeded")));

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(Request, new CallOptions { Timeout = TimeSpan.FromSeconds(10) }));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Equal("Deadline Exceeded", ex.Detail);
    }
}
