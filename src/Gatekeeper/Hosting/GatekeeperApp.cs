using Gatekeeper.Admin;
using Gatekeeper.Audit;
using Gatekeeper.Caching;
using Gatekeeper.Redis;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Gatekeeper.Decisions;
using Gatekeeper.Health;
using Gatekeeper.Policy;
using Gatekeeper.Security;
using Gatekeeper.Telemetry;
using Gatekeeper.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Hosting;

/// <summary>Builds the gatekeeper host: Kestrel (HTTP/2), the gRPC endpoint and the services behind it.</summary>
public static class GatekeeperApp
{
    /// <summary>Where the service listens when neither --urls nor configuration says otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5000";

    /// <summary>Configuration section of the audit log settings (<see cref="AuditOptions"/>).</summary>
    public const string AuditSection = "Gatekeeper:Audit";

    /// <summary>Configuration section of Redis: <c>Configuration</c> (empty = no L2) and <c>InstanceName</c>.</summary>
    public const string RedisSection = "Gatekeeper:Redis";

    /// <summary>
    /// Builds the application. <paramref name="configure"/> runs last, so tests can add gRPC methods
    /// (<see cref="ServerMethodRegistration.AddGrpcMethods"/>) or replace services.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // The host would watch its content root, subfolders included, for appsettings changes; the default
        // ./data lies below it, so every audit WAL write woke that watcher (5% of the CPU under load). Settings
        // given later in args still win.
        var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Plain-text endpoints speak HTTP/2 with prior knowledge, as gRPC clients do.
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http2);
        });

        // Per-request hosting logs cost more than a decision. While any level of the hosting diagnostics
        // category is enabled, ASP.NET Core also starts an Activity and a log scope for every request.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Our own server span (GrpcEndpoint) replaces that Activity, so keep the category off with telemetry on too.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        // One JSON object per line on the console, for log shippers; the slim builder does not bind
        // Logging:Console:FormatterName, hence a switch of our own.
        if (builder.Configuration.GetValue<bool>(GatekeeperOptions.JsonLogsKey))
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffZ";
            });
        }

        // Before anything else that can fail, so that a failed build disposes it; null SDK unless an OTLP endpoint is set.
        var telemetry = GatekeeperTelemetry.Create(builder.Configuration);
        try
        {
            return Build(builder, telemetry, configure);
        }
        catch
        {
            telemetry.Dispose();
            throw;
        }
    }

    private static WebApplication Build(WebApplicationBuilder builder, GatekeeperTelemetry telemetry, Action<WebApplicationBuilder>? configure)
    {
        var services = builder.Services;
        // A factory registration: the container disposes (flushes) the SDK with the host.
        services.AddSingleton(_ => telemetry);
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<GrpcServerOptions>()
            .Bind(builder.Configuration.GetSection(GrpcServerOptions.Section))
            .Validate(o => !o.Validate().Any(), "Invalid Gatekeeper:Grpc settings.")
            .ValidateOnStart();
        services.AddSingleton<HealthStatusStore>();
        services.AddSingleton<HealthService>();
        services.AddOptions<GatekeeperOptions>().Bind(builder.Configuration.GetSection(GatekeeperOptions.Section));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GatekeeperOptions>>().Value;
            return new PolicyProvider(
                options.ResolvedPolicyPath,
                sp.GetRequiredService<ILogger<PolicyProvider>>(),
                sp.GetRequiredService<TimeProvider>(),
                PolicyLoaderOptions.Default,
                PolicyProvider.DefaultDebounce,
                options.WatchPolicy);
        });
        services.AddSingleton(sp =>
        {
            var audit = new AuditOptions();
            builder.Configuration.GetSection(AuditSection).Bind(audit);
            audit.DataDirectory = sp.GetRequiredService<IOptions<GatekeeperOptions>>().Value.DataDirectory;
            return new AuditLog(audit, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Gatekeeper.Audit"), sp.GetRequiredService<TimeProvider>());
        });
        AddDecisionCache(builder, telemetry);
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GatekeeperOptions>>().Value;
            if (!options.AuditEnabled)
            {
                HostingLog.AuditDisabled(sp.GetRequiredService<ILogger<DecisionPipeline>>());
            }

            return new DecisionPipeline(
                sp.GetRequiredService<PolicyProvider>(),
                sp.GetRequiredService<L1DecisionCache>(),
                sp.GetService<L2DecisionCache>(),
                options.AuditEnabled ? sp.GetRequiredService<AuditLog>() : null,
                sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<DecisionService>();
        services.AddGrpcMethods(sp => sp.GetRequiredService<HealthService>().Methods());
        services.AddGrpcMethods(sp => sp.GetRequiredService<DecisionService>().Methods());
        services.AddSingleton<AdminService>();
        services.AddGrpcMethods(sp => sp.GetRequiredService<AdminService>().Methods());
        services.AddSingleton(sp => new GrpcEndpoint(
            sp.GetServices<ServerMethodSource>().SelectMany(s => s.Create(sp)),
            sp.GetRequiredService<IOptions<GrpcServerOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<GrpcEndpoint>>()));
        // TLS, caller names, caller policy and abuse limits (Gatekeeper:Tls, AllowInsecure, RateLimit, Limits).
        builder.AddGatekeeperSecurity();

        configure?.Invoke(builder);

        // After configure: tests clear the console providers, but OTLP export is telemetry, not console output.
        if (telemetry.LoggerProvider is { } otlpLogs)
        {
            services.AddSingleton(otlpLogs);
        }

        var app = builder.Build();
        // Resolved first so that it is disposed last: logs written while the audit log shuts down are still exported.
        app.Services.GetRequiredService<GatekeeperTelemetry>();
        telemetry.LogState(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gatekeeper.Telemetry"));
        // Resolve the policy now: an invalid policy stops the start-up with every error logged.
        app.Services.GetRequiredService<PolicyProvider>();
        // Open the audit store now too: a data directory that cannot be written stops the start-up.
        app.Services.GetRequiredService<DecisionPipeline>();
        telemetry.Observe(
            app.Services.GetRequiredService<IOptions<GatekeeperOptions>>().Value.AuditEnabled ? app.Services.GetRequiredService<AuditLog>() : null,
            app.Services.GetRequiredService<PolicyProvider>(),
            app.Services.GetService<L2DecisionCache>()?.Breaker);
        var endpoint = app.Services.GetRequiredService<GrpcEndpoint>();
        app.Run(endpoint.HandleAsync);

        var health = app.Services.GetRequiredService<HealthStatusStore>();
        app.Lifetime.ApplicationStarted.Register(() => health.SetAll(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving));
        app.Lifetime.ApplicationStopping.Register(health.Drain);
        return app;
    }

    /// <summary>
    /// L1 always (unless sized 0); L2 and fleet-wide policy announcements when Gatekeeper:Redis:Configuration
    /// is set. Without Redis the service is whole: Redis only shares decisions and announces versions.
    /// </summary>
    private static void AddDecisionCache(WebApplicationBuilder builder, GatekeeperTelemetry telemetry)
    {
        var services = builder.Services;
        var cacheOptions = new CacheOptions();
        builder.Configuration.GetSection(CacheOptions.Section).Bind(cacheOptions);
        services.AddOptions<CacheOptions>()
            .Bind(builder.Configuration.GetSection(CacheOptions.Section))
            .Validate(o => !o.Validate().Any(), "Invalid Gatekeeper:Cache settings.")
            .ValidateOnStart();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<CacheOptions>>().Value;
            return new L1DecisionCache(o.L1MaxEntries, o.L1MaxBytes);
        });

        var redisConfiguration = builder.Configuration[$"{RedisSection}:Configuration"];
        if (string.IsNullOrWhiteSpace(redisConfiguration))
        {
            return;
        }

        var instanceName = builder.Configuration[$"{RedisSection}:InstanceName"] ?? "gatekeeper:";
        services.AddGatekeeperRedisCache(o =>
        {
            o.Configuration = redisConfiguration;
            o.InstanceName = instanceName;
        });
        services.AddSingleton(sp =>
        {
            var redis = sp.GetRequiredService<IDistributedCache>();
            var l2 = new L2DecisionCache(
                telemetry.Enabled ? new TracingDistributedCache(redis) : redis,
                sp.GetRequiredService<IOptions<CacheOptions>>().Value,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<L2DecisionCache>>());
            // Health: the decision service keeps serving without Redis; the L2 entry says it is degraded.
            var health = sp.GetRequiredService<HealthStatusStore>();
            health.Set(HealthStatusStore.CacheService, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
            l2.Breaker.StateChanged += state => health.Set(
                HealthStatusStore.CacheService,
                state == CircuitState.Open ? Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing : Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
            return l2;
        });
        services.AddHostedService(sp => new PolicyFleetSync(
            sp.GetRequiredService<RedisConnection>(),
            sp.GetRequiredService<PolicyProvider>(),
            sp.GetRequiredService<L1DecisionCache>(),
            instanceName + "policy-version",
            sp.GetRequiredService<ILogger<PolicyFleetSync>>()));
    }
}
