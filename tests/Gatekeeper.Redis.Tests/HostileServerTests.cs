using System.Diagnostics;
using System.Text;
using Gatekeeper.Redis.Tests.Infrastructure;

namespace Gatekeeper.Redis.Tests;

/// <summary>Alone in its collection: it measures process-wide allocations and timeouts.</summary>
[CollectionDefinition(nameof(HostileServerTests), DisableParallelization = true)]
public sealed class HostileServerCollection;

[Collection(nameof(HostileServerTests))]
public sealed class HostileServerTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMilliseconds(800);

    private static Task<RedisConnection> ConnectAsync(FakeRedisServer server, int maxPending = RedisConnectionOptions.DefaultMaxPendingCommands)
    {
        var options = RedisConnectionOptions.Parse($"127.0.0.1:{server.Port},syncTimeout={CommandTimeout.TotalMilliseconds},connectTimeout=5000");
        options.MaxPendingCommands = maxPending;
        options.ReconnectBaseDelay = TimeSpan.FromMilliseconds(20);
        options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(100);
        return RedisConnection.ConnectAsync(options);
    }

    private static async Task<TException> GetFailsAsync<TException>(byte[][]? getReply)
        where TException : Exception
    {
        await using var server = new FakeRedisServer(_ => getReply);
        await using var connection = await ConnectAsync(server);
        var watch = Stopwatch.StartNew();

        // Bounded wait: a client that hangs must fail the test, not the test run.
        var error = await Assert.ThrowsAsync<TException>(() => connection.GetAsync("k").AsTask().WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.True(watch.Elapsed < CommandTimeout + TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        return error;
    }

    [Fact]
    public async Task BulkLength_BeyondLimit_ProtocolExceptionWithoutAllocatingIt()
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var error = await GetFailsAsync<RedisProtocolException>(FakeRedisServer.Reply("$2147483647\r\n", "abc"));

        Assert.Contains("exceeds the limit", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64 * 1024 * 1024);
    }

    [Fact]
    public async Task BulkLength_HugeWithinLimitNeverDelivered_TimesOutWithoutAllocatingIt()
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);

        var error = await GetFailsAsync<RedisTimeoutException>(FakeRedisServer.Reply("$400000000\r\nonly this"));

        Assert.Contains("GET", error.Message, StringComparison.Ordinal);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64 * 1024 * 1024);
    }

    [Fact]
    public async Task ArrayCount_BeyondLimit_ProtocolException() =>
        await GetFailsAsync<RedisProtocolException>(FakeRedisServer.Reply("*2000000000\r\n"));

    [Fact]
    public async Task TruncatedFrame_RestArrivesLater_Completes()
    {
        await using var server = new FakeRedisServer(_ => FakeRedisServer.Reply("$11\r\nhel", "lo wor", "ld\r\n"));
        await using var connection = await ConnectAsync(server);

        var value = await connection.GetAsync("k");

        Assert.Equal("hello world", Encoding.ASCII.GetString(value!));
    }

    [Fact]
    public async Task TruncatedFrame_ThenSilence_TimesOut() =>
        await GetFailsAsync<RedisTimeoutException>(FakeRedisServer.Reply("$10\r\nabc"));

    [Fact]
    public async Task TruncatedFrame_ThenServerCloses_ConnectionException() =>
        await GetFailsAsync<RedisConnectionException>([.. FakeRedisServer.Reply("$10\r\nabc"), []]);

    [Fact]
    public async Task WrongReplyType_ForGet_ProtocolException()
    {
        var error = await GetFailsAsync<RedisProtocolException>(FakeRedisServer.Reply(":42\r\n"));

        Assert.Contains("answered GET", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("$1x\r\nab\r\n")]
    [InlineData("?garbage\r\n")]
    [InlineData("$3\r\nabcdef\r\n")]
    [InlineData(":-\r\n")]
    public async Task MalformedReply_ProtocolException(string reply) =>
        await GetFailsAsync<RedisProtocolException>(FakeRedisServer.Reply(reply));

    [Fact]
    public async Task Nesting_TooDeep_ProtocolException() =>
        await GetFailsAsync<RedisProtocolException>(FakeRedisServer.Reply(string.Concat(Enumerable.Repeat("*1\r\n", 1000))));

    [Fact]
    public async Task Line_WithoutEnd_ProtocolExceptionInsteadOfBufferingForever() =>
        await GetFailsAsync<RedisProtocolException>(FakeRedisServer.Reply("+" + new string('a', 200_000)));

    [Fact]
    public async Task UnsolicitedReply_BreaksTheConnection_ThenItReconnects()
    {
        await using var server = new FakeRedisServer(_ => FakeRedisServer.Reply("$-1\r\n+SURPRISE\r\n"));
        await using var connection = await ConnectAsync(server);

        Assert.Null(await connection.GetAsync("k"));

        await Poll.UntilAsync(() => server.Connections >= 2 && connection.State == RedisConnectionState.Connected, TimeSpan.FromSeconds(5), "it reconnected");
        await connection.PingAsync();
    }

    [Fact]
    public async Task NotARedisServer_ConnectFailsWithProtocolError()
    {
        await using var server = new FakeRedisServer(_ => null, pingReply: "HTTP/1.1 400 Bad Request\r\n\r\n");

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectAsync(server));

        Assert.IsType<RedisProtocolException>(error.InnerException);
    }

    [Fact]
    public async Task PendingQueueFull_FailsFastInsteadOfQueueing()
    {
        await using var server = new FakeRedisServer(_ => null);
        await using var connection = await ConnectAsync(server, maxPending: 8);

        var gets = Enumerable.Range(0, 20).Select(i => connection.GetAsync("k" + i).AsTask()).ToArray();

        var rejected = gets.Where(t => t.IsFaulted).ToArray();
        Assert.Equal(12, rejected.Length);
        Assert.All(rejected, t => Assert.Contains("MaxPendingCommands", t.Exception!.InnerException!.Message, StringComparison.Ordinal));
        var timedOut = await Assert.ThrowsAsync<RedisTimeoutException>(() => gets[0].WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("within 800 ms", timedOut.Message, StringComparison.Ordinal);
        foreach (var get in gets[1..8])
        {
            await Assert.ThrowsAsync<RedisConnectionException>(() => get.WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }
}
