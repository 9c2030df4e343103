using Gatekeeper.Redis;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

#pragma warning disable IDE0130 // DI extensions live in the DI namespace by convention, as Microsoft's do.
namespace Microsoft.Extensions.DependencyInjection;
#pragma warning restore IDE0130

/// <summary>Registers the Gatekeeper Redis cache.</summary>
public static class GatekeeperRedisServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RedisCache"/> as <see cref="IDistributedCache"/>, plus the shared <see cref="RedisConnection"/>
    /// (for state and pub/sub). The options are validated at start-up with every problem reported at once. Drop-in
    /// counterpart of <c>AddStackExchangeRedisCache</c>.
    /// </summary>
    public static IServiceCollection AddGatekeeperRedisCache(this IServiceCollection services, Action<RedisCacheOptions> setupAction)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(setupAction);
        services.AddOptions<RedisCacheOptions>().Configure(setupAction).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisCacheOptions>, RedisCacheOptionsValidator>());
        services.TryAddSingleton(static sp => RedisConnection.Connect(
            sp.GetRequiredService<IOptions<RedisCacheOptions>>().Value.CreateConnectionOptions(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton(static sp => new RedisCache(
            sp.GetRequiredService<RedisConnection>(),
            sp.GetRequiredService<IOptions<RedisCacheOptions>>().Value.InstanceName,
            sp.GetService<TimeProvider>()));

        // Added, not TryAdded (as Microsoft's): the last distributed cache registered wins.
        services.Add(ServiceDescriptor.Singleton<IDistributedCache>(static sp => sp.GetRequiredService<RedisCache>()));
        return services;
    }

    private sealed class RedisCacheOptionsValidator : IValidateOptions<RedisCacheOptions>
    {
        public ValidateOptionsResult Validate(string? name, RedisCacheOptions options)
        {
            var problems = options.Validate();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
