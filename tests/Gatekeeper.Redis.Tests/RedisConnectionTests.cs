using System.Collections.Concurrent;
using System.Text;
using Gatekeeper.Redis.Internal;
using Gatekeeper.Redis.Tests.Infrastructure;

namespace Gatekeeper.Redis.Tests;

public sealed class RedisConnectionTests : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private readonly RedisServer _server;
    private RedisConnection _connection = null!;

    public RedisConnectionTests(RedisServerFixture fixture) => _server = fixture.Server;

    public async Task InitializeAsync() => _connection = await RedisConnection.ConnectAsync(_server.Configuration());

    public async Task DisposeAsync() => await _connection.DisposeAsync();

    private static string NewKey() => "test:" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task SetGetDelete_RoundTrip_ReturnsStoredBytesThenNull()
    {
        var key = NewKey();
        byte[] value = [0, 1, 2, 13, 10, 255];

        Assert.True(await _connection.SetAsync(key, value));
        Assert.Equal(value, await _connection.GetAsync(key));
        Assert.True(await _connection.DeleteAsync(key));
        Assert.Null(await _connection.GetAsync(key));
        Assert.False(await _connection.DeleteAsync(key));
    }

    [Fact]
    public async Task Get_MissingKey_ReturnsNull() => Assert.Null(await _connection.GetAsync(NewKey()));

    [Fact]
    public async Task Set_LargeValue_RoundTrips()
    {
        var key = NewKey();
        var value = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(value);

        await _connection.SetAsync(key, value);

        Assert.Equal(value, await _connection.GetAsync(key));
    }

    [Fact]
    public async Task Set_WithMillisecondExpiry_KeyExpires()
    {
        var key = NewKey();

        await _connection.SetAsync(key, "v"u8.ToArray(), TimeSpan.FromMilliseconds(150));

        var pttl = await _connection.ExecuteAsync("PTTL", key);
        Assert.InRange(pttl.Integer, 1, 150);
        await Poll.UntilAsync(async () => await _connection.GetAsync(key) is null, Patience, "the key expired");
    }

    [Fact]
    public async Task Set_WithWholeSecondExpiry_UsesSeconds()
    {
        var key = NewKey();

        await _connection.SetAsync(key, "v"u8.ToArray(), TimeSpan.FromSeconds(30));

        var ttl = await _connection.ExecuteAsync("TTL", key);
        Assert.InRange(ttl.Integer, 25, 30);
    }

    [Fact]
    public async Task Expire_ExistingKey_ExpiresIt_MissingKey_ReturnsFalse()
    {
        var key = NewKey();
        await _connection.SetAsync(key, "v"u8.ToArray());

        Assert.True(await _connection.ExpireAsync(key, TimeSpan.FromMilliseconds(120)));
        Assert.False(await _connection.ExpireAsync(NewKey(), TimeSpan.FromSeconds(1)));
        await Poll.UntilAsync(async () => await _connection.GetAsync(key) is null, Patience, "the key expired");
    }

    [Fact]
    public async Task Ping_Connected_ReturnsRoundTrip()
    {
        var rtt = await _connection.PingAsync();

        Assert.True(rtt > TimeSpan.Zero && rtt < Patience);
    }

    [Fact]
    public async Task Pipelining_ThousandsOfConcurrentCommandsFromManyTasks_EachGetsItsOwnAnswer()
    {
        const int tasks = 64;
        const int perTask = 100;
        var prefix = NewKey();

        // Many callers, each with its own keys, all interleaved on one socket.
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < perTask; i++)
            {
                var key = $"{prefix}:{t}:{i}";
                var value = Encoding.UTF8.GetBytes($"value-{t}-{i}");
                await _connection.SetAsync(key, value);
                Assert.Equal(value, await _connection.GetAsync(key));
            }
        })));

        // Then 6,400 GETs in flight at once, no await in between.
        var gets = new List<(string Expected, ValueTask<byte[]?> Reply)>();
        for (var t = 0; t < tasks; t++)
        {
            for (var i = 0; i < perTask; i++)
            {
                gets.Add(($"value-{t}-{i}", _connection.GetAsync($"{prefix}:{t}:{i}")));
            }
        }

        foreach (var (expected, reply) in gets)
        {
            Assert.Equal(expected, Encoding.UTF8.GetString((await reply)!));
        }
    }

    [Fact]
    public async Task ServerError_WrongType_ThrowsServerExceptionAndConnectionStaysUsable()
    {
        var key = NewKey();
        await _connection.ExecuteAsync("LPUSH", key, "x");

        var error = await Assert.ThrowsAsync<RedisServerException>(async () => await _connection.GetAsync(key));

        Assert.Equal("WRONGTYPE", error.ErrorCode);
        Assert.Contains("WRONGTYPE", error.ServerMessage, StringComparison.Ordinal);
        Assert.Equal(RedisConnectionState.Connected, _connection.State);
        await _connection.PingAsync();
    }

    [Fact]
    public async Task DefaultDatabase_AndSelect_IsolateKeys()
    {
        var key = NewKey();
        await using var db3 = await RedisConnection.ConnectAsync(_server.Configuration("defaultDatabase=3"));
        await db3.SetAsync(key, "three"u8.ToArray());

        Assert.Null(await _connection.GetAsync(key));
        Assert.Equal("three"u8.ToArray(), await db3.GetAsync(key));

        await using var switching = await RedisConnection.ConnectAsync(_server.Configuration());
        await switching.SelectAsync(3);
        Assert.Equal("three"u8.ToArray(), await switching.GetAsync(key));
    }

    [Fact]
    public async Task PubSub_PublishedMessage_ReachesSubscriberUntilUnsubscribed()
    {
        var channel = NewKey();
        var received = new ConcurrentQueue<string>();
        var subscriber = _connection.GetSubscriber();
        await Poll.UntilAsync(() => subscriber.State == RedisConnectionState.Connected, Patience, "the subscriber connected");

        await subscriber.SubscribeAsync(channel, m => received.Enqueue(Encoding.UTF8.GetString(m.Span)));
        Assert.Equal(1, await _connection.PublishAsync(channel, "policy-v2"u8.ToArray()));
        await Poll.UntilAsync(() => received.Contains("policy-v2"), Patience, "the message arrived");

        await subscriber.UnsubscribeAsync(channel);
        Assert.Equal(0, await _connection.PublishAsync(channel, "ignored"u8.ToArray()));
    }

    [Fact]
    public async Task PubSub_HandlerThrows_OtherHandlersAndLaterMessagesStillDelivered()
    {
        var channel = NewKey();
        var received = 0;
        var subscriber = _connection.GetSubscriber();
        await Poll.UntilAsync(() => subscriber.State == RedisConnectionState.Connected, Patience, "the subscriber connected");
        await subscriber.SubscribeAsync(channel, _ => throw new InvalidOperationException("bad handler"));
        await subscriber.SubscribeAsync(channel, _ => Interlocked.Increment(ref received));

        await _connection.PublishAsync(channel, "1"u8.ToArray());
        await _connection.PublishAsync(channel, "2"u8.ToArray());

        await Poll.UntilAsync(() => Volatile.Read(ref received) == 2, Patience, "both messages arrived");
        Assert.Equal(RedisConnectionState.Connected, subscriber.State);
    }

    [Fact]
    public async Task Connect_NothingListening_AbortConnectTrue_ThrowsConnectionException()
    {
        var port = _server.Port + 1;

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync($"127.0.0.1:{port},connectTimeout=1000"));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_NothingListening_AbortConnectFalse_CommandsFailFastWhileRetrying()
    {
        var states = new ConcurrentQueue<RedisConnectionState>();
        var options = RedisConnectionOptions.Parse($"127.0.0.1:{_server.Port + 1},abortConnect=false");

        await using var connection = await RedisConnection.ConnectAsync(options);
        connection.StateChanged += (_, e) => states.Enqueue(e.Current);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(async () => await connection.GetAsync("k"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), "a command on a broken connection must not wait");
        Assert.Contains("not connected", error.Message, StringComparison.Ordinal);
        await Poll.UntilAsync(() => states.Contains(RedisConnectionState.Connecting) && states.Contains(RedisConnectionState.Broken), Patience, "it kept retrying");
    }

    [Fact]
    public async Task StateChanged_Dispose_ReportsDisposed()
    {
        var connection = await RedisConnection.ConnectAsync(_server.Configuration());
        var states = new ConcurrentQueue<RedisConnectionState>();
        connection.StateChanged += (_, e) => states.Enqueue(e.Current);
        Assert.Equal(RedisConnectionState.Connected, connection.State);

        await connection.DisposeAsync();

        Assert.Equal(RedisConnectionState.Disposed, connection.State);
        Assert.Contains(RedisConnectionState.Disposed, states);
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await connection.GetAsync("k"));
    }

    [Fact]
    public async Task Cancellation_CallerStopsWaiting_LaterRepliesStayMatched()
    {
        var key = NewKey();
        await _connection.SetAsync(key, "v"u8.ToArray());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(30));

        // BLPOP blocks server-side for 300 ms: the caller gives up first, the reply still arrives later.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _connection.ExecuteAsync("BLPOP", NewKey(), "0.3").WaitAsync(cts.Token));
        var afterCancel = _connection.GetAsync(key);

        Assert.Equal("v"u8.ToArray(), await afterCancel);
        Assert.Equal(RedisConnectionState.Connected, _connection.State);
    }
}
