using System.Buffers;
using Gatekeeper.Redis.Internal;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Redis;

/// <summary>
/// Pub/sub on a dedicated connection (a subscribed Redis connection cannot run other commands). Subscriptions
/// are remembered and sent again after every reconnect. Handlers run on the connection's read loop: keep them
/// short and hand longer work to a queue. Publish with <see cref="RedisConnection.PublishAsync"/>.
/// </summary>
public sealed class RedisSubscriber : IAsyncDisposable
{
    private readonly Lock _handlersLock = new();
    private readonly Dictionary<string, Action<ReadOnlyMemory<byte>>[]> _handlers = new(StringComparer.Ordinal);
    private readonly ConnectionSupervisor _supervisor;
    private readonly ILogger _logger;

    internal RedisSubscriber(RedisConnectionOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _logger = loggerFactory.CreateLogger("Gatekeeper.Redis");
        _supervisor = new ConnectionSupervisor(this, options, ConnectionKind.Subscriber, OnPush, ResubscribeAsync, time, _logger);
        _supervisor.Start();
    }

    /// <summary>Raised on every change of <see cref="State"/>.</summary>
    public event EventHandler<RedisConnectionStateChangedEventArgs>? StateChanged
    {
        add => _supervisor.StateChanged += value;
        remove => _supervisor.StateChanged -= value;
    }

    /// <summary>The state of the pub/sub connection.</summary>
    public RedisConnectionState State => _supervisor.State;

    /// <summary>
    /// Calls <paramref name="handler"/> with every message published on <paramref name="channel"/>. When connected,
    /// completes once the server confirms the subscription; when not, the subscription is kept and sent on connect.
    /// </summary>
    public async Task SubscribeAsync(string channel, Action<ReadOnlyMemory<byte>> handler, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(handler);
        bool first;
        lock (_handlersLock)
        {
            first = !_handlers.TryGetValue(channel, out var existing);
            _handlers[channel] = existing is null ? [handler] : [.. existing, handler];
        }

        var connection = _supervisor.Current;
        if (first && connection is not null)
        {
            var reply = await SendAsync(connection, subscribe: true, channel).WaitAsync(cancellationToken).ConfigureAwait(false);
            CheckConfirmation(connection, reply, "subscribe");
        }
    }

    /// <summary>Removes every handler of <paramref name="channel"/> and unsubscribes.</summary>
    public async Task UnsubscribeAsync(string channel, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        bool removed;
        lock (_handlersLock)
        {
            removed = _handlers.Remove(channel);
        }

        var connection = _supervisor.Current;
        if (removed && connection is not null)
        {
            var reply = await SendAsync(connection, subscribe: false, channel).WaitAsync(cancellationToken).ConfigureAwait(false);
            CheckConfirmation(connection, reply, "unsubscribe");
        }
    }

    private static Task<RespValue> SendAsync(PhysicalConnection connection, bool subscribe, string channel)
    {
        // One channel per command: each channel gets its own confirmation, which keeps replies one-to-one with the FIFO.
        return connection.SendAsync(subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE", (channel, subscribe), static (IBufferWriter<byte> w, in (string Channel, bool Subscribe) s) =>
        {
            RespWriter.WriteArrayHeader(w, 2);
            RespWriter.WriteRaw(w, s.Subscribe ? RedisCommands.Subscribe : RedisCommands.Unsubscribe);
            RespWriter.WriteBulk(w, null, s.Channel);
        });
    }

    private static void CheckConfirmation(PhysicalConnection connection, in RespValue reply, string kind)
    {
        if (reply.Type is not (RespType.Array or RespType.Push) || reply.Items!.Length < 3 || reply.Items[0].GetString() != kind)
        {
            throw connection.Unexpected(kind.ToUpperInvariant(), reply);
        }
    }

    private async Task ResubscribeAsync(PhysicalConnection connection, CancellationToken cancellationToken)
    {
        string[] channels;
        lock (_handlersLock)
        {
            channels = [.. _handlers.Keys];
        }

        if (channels.Length == 0)
        {
            return;
        }

        var confirmations = new Task<RespValue>[channels.Length];
        for (var i = 0; i < channels.Length; i++)
        {
            confirmations[i] = SendAsync(connection, subscribe: true, channels[i]);
        }

        foreach (var confirmation in confirmations)
        {
            CheckConfirmation(connection, await confirmation.WaitAsync(cancellationToken).ConfigureAwait(false), "subscribe");
        }

        RedisLog.Resubscribed(_logger, channels.Length);
    }

    private void OnPush(RespValue message)
    {
        // ["message", channel, payload] or ["pmessage", pattern, channel, payload]
        var items = message.Items!;
        var pattern = items.Length == 4;
        var channel = items[pattern ? 2 : 1].GetString();
        var payload = items[pattern ? 3 : 2].Bytes;
        if (channel is null)
        {
            return;
        }

        Action<ReadOnlyMemory<byte>>[]? handlers;
        lock (_handlersLock)
        {
            _handlers.TryGetValue(channel, out handlers);
        }

        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(payload ?? ReadOnlyMemory<byte>.Empty);
            }
            catch (Exception ex)
            {
                RedisLog.SubscriptionHandlerFailed(_logger, channel, ex);
            }
        }
    }

    /// <summary>Closes the pub/sub connection; called by <see cref="RedisConnection.DisposeAsync"/>.</summary>
    public ValueTask DisposeAsync() => _supervisor.DisposeAsync();
}
