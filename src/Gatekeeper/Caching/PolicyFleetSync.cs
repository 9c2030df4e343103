using System.Text;
using Gatekeeper.Policy;
using Gatekeeper.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Caching;

/// <summary>
/// Keeps a fleet on one policy version through Redis pub/sub. When this instance loads a new version it
/// publishes it; when another instance announces a version this one does not serve, this one re-reads its
/// policy path (which matters where file watching cannot see the change, e.g. on a network share) and drops
/// its in-process decisions either way. Decisions in Redis are keyed by version, so an old one can never
/// answer for a new policy.
/// </summary>
public sealed class PolicyFleetSync(RedisConnection redis, PolicyProvider policies, L1DecisionCache l1, string channel, ILogger<PolicyFleetSync> logger)
    : IHostedService
{
    private RedisSubscriber? _subscriber;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        policies.VersionChanged += OnLocalVersionChanged;
        _subscriber = redis.GetSubscriber();
        // While Redis is down this returns at once and the subscription is made on connect.
        await _subscriber.SubscribeAsync(channel, OnFleetMessage, cancellationToken);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        policies.VersionChanged -= OnLocalVersionChanged;
        if (_subscriber is not null)
        {
            await _subscriber.DisposeAsync();
        }
    }

    private void OnLocalVersionChanged(object? sender, PolicyVersionChangedEventArgs e) => _ = PublishAsync(e.Current.Version);

    private async Task PublishAsync(string version)
    {
        try
        {
            await redis.PublishAsync(channel, Encoding.UTF8.GetBytes(version));
            CacheLog.VersionPublished(logger, version);
        }
        catch (Exception ex)
        {
            CacheLog.VersionPublishFailed(logger, version, ex.Message);
        }
    }

    private void OnFleetMessage(ReadOnlyMemory<byte> message)
    {
        var version = Encoding.UTF8.GetString(message.Span);
        var current = policies.Current.Version;
        if (version == current)
        {
            return; // our own announcement, or a peer that is already where we are
        }

        CacheLog.FleetVersionSeen(logger, version, current);
        // Off the subscriber's read loop: a reload reads and compiles files.
        _ = Task.Run(() =>
        {
            policies.Reload();
            l1.Clear();
        });
    }
}
