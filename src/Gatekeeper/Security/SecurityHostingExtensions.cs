using Gatekeeper.Audit;
using Gatekeeper.Hosting;
using Gatekeeper.Policy;
using Gatekeeper.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Security;

/// <summary>Wires transport security, caller policy and abuse limits into the host.</summary>
public static class SecurityHostingExtensions
{
    /// <summary>
    /// Binds and validates <see cref="SecurityOptions"/> (every invalid setting at start-up, at once), configures
    /// Kestrel's limits and TLS, and puts <see cref="SecurityMiddleware"/> in front of the gRPC endpoint.
    /// Registers <see cref="CallerAuthorizer"/> and <see cref="CallerRateLimiter"/>.
    /// </summary>
    public static WebApplicationBuilder AddGatekeeperSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(static d => d.ServiceType == typeof(CallerRateLimiter)))
        {
            // Already added (the host adds it; a test host may add it again): one middleware, one Kestrel setup.
            return builder;
        }

        var configuration = builder.Configuration;
        // The slim builder leaves out Kestrel's https-address support; TLS settings decide whether it is used.
        builder.WebHost.UseKestrelHttpsConfiguration();
        services.AddOptions<SecurityOptions>()
            .Bind(configuration.GetSection(SecurityOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>>(new SecurityOptionsValidator(configuration));
        services.AddSingleton(sp => new CallerRateLimiter(sp.GetRequiredService<IOptions<SecurityOptions>>().Value.RateLimit, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new CallerAuthorizer(
            sp.GetRequiredService<PolicyProvider>(),
            sp.GetRequiredService<IOptions<GatekeeperOptions>>().Value.AuditEnabled ? sp.GetRequiredService<AuditLog>() : null,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<CallerAuthorizer>>()));
        var tls = new TlsOptions();
        configuration.GetSection(TlsOptions.Section).Bind(tls);
        if (tls.Enabled)
        {
            services.AddSingleton(sp => new CertificateStore(
                sp.GetRequiredService<IOptions<SecurityOptions>>().Value.Tls,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<CertificateStore>>()));
        }

        services.AddSingleton<IConfigureOptions<KestrelServerOptions>, KestrelSetup>();
        services.AddSingleton<IStartupFilter, MiddlewareStartup>();
        return builder;
    }

    /// <summary>Every URL the server is configured to listen on (--urls / ASPNETCORE_URLS and Kestrel:Endpoints).</summary>
    internal static IReadOnlyList<string> ConfiguredUrls(IConfiguration configuration)
    {
        var urls = new List<string>();
        var configured = configuration["urls"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            urls.AddRange(configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                urls.Add(url);
            }
        }

        if (urls.Count == 0)
        {
            urls.Add(GatekeeperApp.DefaultUrl);
        }

        return urls;
    }

    /// <summary>
    /// The --urls addresses, or none when Kestrel:Endpoints is used: Kestrel's configuration loader adds TLS to those
    /// itself, so they keep Kestrel's TLS without the record coalescer.
    /// </summary>
    private static IReadOnlyList<string> HostingUrls(IConfiguration configuration) =>
        configuration.GetSection("Kestrel:Endpoints").Exists() ? [] : ConfiguredUrls(configuration);

    private sealed class SecurityOptionsValidator(IConfiguration configuration) : IValidateOptions<SecurityOptions>
    {
        public ValidateOptionsResult Validate(string? name, SecurityOptions options)
        {
            var errors = options.Validate(ConfiguredUrls(configuration)).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    private sealed class KestrelSetup(IServiceProvider services) : IConfigureOptions<KestrelServerOptions>
    {
        public void Configure(KestrelServerOptions options)
        {
            var security = services.GetRequiredService<IOptions<SecurityOptions>>().Value;
            var grpc = services.GetRequiredService<IOptions<GrpcServerOptions>>().Value;
            options.ApplyLimits(security.Limits, grpc);
            // Invalid TLS settings fail options validation at start-up with every error listed; loading the files
            // here first would stop the start-up on the first one instead.
            if (security.Tls.Enabled && !security.Tls.Validate().Any())
            {
                options.UseGatekeeperTls(
                    services.GetRequiredService<CertificateStore>(),
                    security.Limits,
                    services.GetRequiredService<TimeProvider>(),
                    services.GetRequiredService<ILoggerFactory>().CreateLogger("Gatekeeper.Security"),
                    HostingUrls(services.GetRequiredService<IConfiguration>()));
            }
        }
    }

    private sealed class MiddlewareStartup : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            var services = app.ApplicationServices;
            var options = services.GetRequiredService<IOptions<SecurityOptions>>().Value;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Gatekeeper.Security");
            if (options.AllowInsecure)
            {
                SecurityLog.InsecureServing(logger);
            }

            var policies = services.GetRequiredService<PolicyProvider>();
            var limiter = services.GetRequiredService<CallerRateLimiter>();
            app.Use(inner => new SecurityMiddleware(inner, policies, limiter, options.AllowInsecure, logger).InvokeAsync);
            next(app);
        };
    }
}
