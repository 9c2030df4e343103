using System.Collections.Concurrent;
using System.Diagnostics;
using Gatekeeper.Redis.Tests.Infrastructure;

namespace Gatekeeper.Redis.Tests;

/// <summary>Each test owns its redis-server, because it kills or freezes it.</summary>
public sealed class RedisResilienceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static RedisConnectionOptions FastOptions(RedisServer server, int commandTimeoutMs = 2000)
    {
        var options = RedisConnectionOptions.Parse(server.Configuration($"syncTimeout={commandTimeoutMs},connectTimeout=500"));
        options.ReconnectBaseDelay = TimeSpan.FromMilliseconds(50);
        options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(300);
        return options;
    }

    [Fact]
    public async Task Reconnect_ServerKilledAndRestartedOnSamePort_CommandsSucceedAgain()
    {
        using var server = RedisServer.Start();
        await using var connection = await RedisConnection.ConnectAsync(FastOptions(server));
        var states = new ConcurrentQueue<RedisConnectionState>();
        connection.StateChanged += (_, e) => states.Enqueue(e.Current);
        await connection.SetAsync("k", "before"u8.ToArray());

        server.Kill();
        await Poll.UntilAsync(() => connection.State != RedisConnectionState.Connected, Patience, "the loss was noticed");
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await connection.GetAsync("k"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), "commands fail fast while Redis is down");

        server.Restart();
        await Poll.UntilAsync(() => connection.State == RedisConnectionState.Connected, Patience, "it reconnected");

        Assert.Null(await connection.GetAsync("k")); // a fresh server without persistence: proves it is the new process
        await connection.SetAsync("k", "after"u8.ToArray());
        Assert.Equal("after"u8.ToArray(), await connection.GetAsync("k"));
        Assert.Contains(RedisConnectionState.Broken, states);
        Assert.Contains(RedisConnectionState.Connecting, states);
    }

    [Fact]
    public async Task Subscriber_ServerRestarted_ResubscribesByItself()
    {
        using var server = RedisServer.Start();
        await using var connection = await RedisConnection.ConnectAsync(FastOptions(server));
        var subscriber = connection.GetSubscriber();
        var received = new ConcurrentQueue<string>();
        await subscriber.SubscribeAsync("policy", m => received.Enqueue(System.Text.Encoding.UTF8.GetString(m.Span)));
        await Poll.UntilAsync(async () => await connection.PublishAsync("policy", "v1"u8.ToArray()) == 1, Patience, "subscribed");

        server.Restart();

        await Poll.UntilAsync(async () => await connection.PublishAsync("policy", "v2"u8.ToArray()) == 1, Patience, "re-subscribed after restart");
        await Poll.UntilAsync(() => received.Contains("v2"), Patience, "the message after the restart arrived");
    }

    [Fact]
    public async Task ServerStopsAnswering_Sigstop_TimesOutThenRecoversAfterSigcont()
    {
        using var server = RedisServer.Start();
        await using var connection = await RedisConnection.ConnectAsync(FastOptions(server, commandTimeoutMs: 500));
        await connection.SetAsync("k", "kept"u8.ToArray());

        server.Pause();
        try
        {
            var watch = Stopwatch.StartNew();
            var first = connection.GetAsync("k").AsTask();
            var others = Enumerable.Range(0, 10).Select(_ => connection.GetAsync("k").AsTask()).ToArray();

            var timeout = await Assert.ThrowsAsync<RedisTimeoutException>(() => first.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromMilliseconds(2500));
            Assert.Contains("within 500 ms", timeout.Message, StringComparison.Ordinal);
            foreach (var other in others)
            {
                await Assert.ThrowsAnyAsync<RedisException>(() => other.WaitAsync(TimeSpan.FromSeconds(10)));
            }

            // While frozen, reconnects cannot finish their hand-shake: commands keep failing fast, never hang.
            await Poll.UntilAsync(() => connection.State != RedisConnectionState.Connected, Patience, "the connection was torn down");
            watch.Restart();
            await Assert.ThrowsAnyAsync<RedisException>(async () => await connection.GetAsync("k"));
            Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(600), $"took {watch.Elapsed}");
        }
        finally
        {
            server.Resume();
        }

        await Poll.UntilAsync(() => connection.State == RedisConnectionState.Connected, Patience, "it reconnected after SIGCONT");
        Assert.Equal("kept"u8.ToArray(), await connection.GetAsync("k"));
    }
}
