using Gatekeeper.Client;
using Gatekeeper.Client.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="GatekeeperClient"/> with dependency injection.</summary>
public static class GatekeeperClientServiceCollectionExtensions
{
    /// <summary>The name of the HttpClient the client is built on, for <c>IHttpClientFactory</c> configuration.</summary>
    public const string HttpClientName = "Gatekeeper.Client";

    /// <summary>
    /// Registers a singleton <see cref="GatekeeperClient"/> on a named HttpClient from <c>IHttpClientFactory</c>,
    /// whose primary handler is the client's own <see cref="SocketsHttpHandler"/> (HTTP/2, multiple connections,
    /// keep-alive pings, TLS from the options) and lives as long as the application: HTTP/2 connections are
    /// long-lived and multiplexed, so the factory's handler rotation would only cost reconnections.
    /// The factory's per-request loggers are removed because this is a hot path; add them back with
    /// <c>AddDefaultLogger()</c> on the returned builder, which also takes delegating handlers (e.g. auth).
    /// The options are validated at start-up, reporting every invalid setting at once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; <see cref="GatekeeperClientOptions.Address"/> is required.</param>
    /// <returns>The builder of the underlying HttpClient.</returns>
    public static IHttpClientBuilder AddGatekeeperClient(this IServiceCollection services, Action<GatekeeperClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptions<GatekeeperClientOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatekeeperClientOptions>, GatekeeperClientOptionsValidator>());
        var builder = services.AddHttpClient(HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(static sp => HandlerFactory.Create(sp.GetRequiredService<IOptions<GatekeeperClientOptions>>().Value))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .ConfigureHttpClient(static client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        services.TryAddSingleton(static sp => new GatekeeperClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
            sp.GetRequiredService<IOptions<GatekeeperClientOptions>>().Value));
        return builder;
    }

    private sealed class GatekeeperClientOptionsValidator : IValidateOptions<GatekeeperClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, GatekeeperClientOptions options)
        {
            var errors = OptionsValidation.Validate(options, addressRequired: true);
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
