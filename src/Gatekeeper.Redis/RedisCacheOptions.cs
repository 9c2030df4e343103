using Microsoft.Extensions.Options;

namespace Gatekeeper.Redis;

/// <summary>
/// Configuration for <see cref="RedisCache"/>, shaped like Microsoft.Extensions.Caching.StackExchangeRedis's
/// options of the same name so that swapping packages is a one-line change.
/// </summary>
public sealed class RedisCacheOptions : IOptions<RedisCacheOptions>
{
    /// <summary>
    /// <c>host:port[,password=...][,user=...][,ssl=true][,sslHost=...][,defaultDatabase=N][,connectTimeout=ms][,syncTimeout=ms][,abortConnect=false]</c>.
    /// See <see cref="RedisConnectionOptions.Parse"/>.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>Prefix of every key (for example <c>gatekeeper:</c>), so that several applications can share one Redis.</summary>
    public string? InstanceName { get; set; }

    /// <summary>Adjusts the parsed options, for settings without a string form (certificate validation, limits, backoff).</summary>
    public Action<RedisConnectionOptions>? ConfigureConnection { get; set; }

    RedisCacheOptions IOptions<RedisCacheOptions>.Value => this;

    /// <summary>Parses <see cref="Configuration"/> and applies <see cref="ConfigureConnection"/>.</summary>
    /// <exception cref="FormatException">The configuration is invalid; the message lists every problem.</exception>
    public RedisConnectionOptions CreateConnectionOptions()
    {
        var options = RedisConnectionOptions.Parse(Configuration);
        ConfigureConnection?.Invoke(options);
        return options;
    }

    /// <summary>Every problem with these options (empty when valid).</summary>
    internal List<string> Validate()
    {
        if (!RedisConnectionOptions.TryParse(Configuration, out var options, out var errors))
        {
            return [.. errors];
        }

        ConfigureConnection?.Invoke(options);
        return options.Validate();
    }
}
