using System.Reflection;
using Gatekeeper.Audit;
using Gatekeeper.Caching;
using Gatekeeper.Policy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gatekeeper.Telemetry;

/// <summary>
/// The OpenTelemetry SDK of one host: created from the standard <c>OTEL_*</c> settings when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, owned by the host and disposed with it (which flushes what is
/// buffered). When the endpoint is not set there is no SDK at all: nothing listens to the activity source or the
/// meter, so the request path takes no timestamps, starts no activities and allocates nothing for telemetry.
/// </summary>
/// <remarks>
/// The settings are read from the host's configuration, which holds the environment variables and, above them,
/// the command line: <c>OTEL_SERVICE_NAME=x</c> in the environment and <c>--OTEL_SERVICE_NAME=x</c> both work.
/// </remarks>
public sealed class GatekeeperTelemetry : IDisposable
{
    /// <summary>The setting that turns export on.</summary>
    public const string EndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The service name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one.</summary>
    public const string DefaultServiceName = "gatekeeper";

    private readonly OpenTelemetrySdk? _sdk;
    private readonly string _disabledReason;
    private readonly string _traces;
    private readonly string _metrics;
    private readonly string _logs;
    private IDisposable? _observation;
    private ExporterDiagnostics? _diagnostics;

    private GatekeeperTelemetry(OpenTelemetrySdk? sdk, string serviceName, string disabledReason, string traces = "", string metrics = "", string logs = "")
    {
        _sdk = sdk;
        ServiceName = serviceName;
        _disabledReason = disabledReason;
        _traces = traces;
        _metrics = metrics;
        _logs = logs;
        LoggerProvider = sdk is null ? null : new ForwardingLoggerProvider(sdk.GetLoggerFactory());
    }

    /// <summary>Whether the SDK exists and exports.</summary>
    public bool Enabled => _sdk is not null;

    /// <summary>The service.name reported, when enabled.</summary>
    public string ServiceName { get; }

    /// <summary>The provider that sends the host's logs to OTLP, when enabled; the host adds it to its logging.</summary>
    public ILoggerProvider? LoggerProvider { get; }

    /// <summary>Creates the SDK when <paramref name="configuration"/> names an OTLP endpoint, else an inert instance.</summary>
    /// <exception cref="InvalidOperationException">An OTLP setting is malformed (the message names it).</exception>
    public static GatekeeperTelemetry Create(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (bool.TryParse(configuration["OTEL_SDK_DISABLED"], out var disabled) && disabled)
        {
            return new GatekeeperTelemetry(null, string.Empty, "OTEL_SDK_DISABLED is true");
        }

        if (string.IsNullOrWhiteSpace(configuration[EndpointKey]))
        {
            return new GatekeeperTelemetry(null, string.Empty, EndpointKey + " is not set");
        }

        // Where each signal goes, read (and checked) as the SDK's exporter will read it.
        var traces = OtlpSettings.Read(configuration, "TRACES", "v1/traces");
        var metrics = OtlpSettings.Read(configuration, "METRICS", "v1/metrics");
        var logs = OtlpSettings.Read(configuration, "LOGS", "v1/logs");
        var named = configuration["OTEL_SERVICE_NAME"];
        var namedInAttributes = configuration["OTEL_RESOURCE_ATTRIBUTES"]?.Contains("service.name=", StringComparison.Ordinal) == true;
        var serviceName = named is { Length: > 0 } ? named : namedInAttributes ? "(from OTEL_RESOURCE_ATTRIBUTES)" : DefaultServiceName;
        var sdk = OpenTelemetrySdk.Create(otel =>
        {
            // The SDK reads OTEL_* from the IConfiguration in its own services (by default the environment only);
            // the host's configuration has the environment too, plus the command line and appsettings.
            otel.Services.AddSingleton(configuration);
            otel.ConfigureResource(resource =>
            {
                // Added last, service.name would override OTEL_SERVICE_NAME: only a default when the operator named none.
                if (named is not { Length: > 0 } && !namedInAttributes)
                {
                    resource.AddService(DefaultServiceName, serviceVersion: Version(), autoGenerateServiceInstanceId: true);
                }
            });
            otel.WithTracing(tracing => tracing.AddSource(GatekeeperMetrics.MeterName));
            // System.Runtime: the runtime's own GC, thread pool and exception metrics, observed at export time only.
            otel.WithMetrics(metrics =>
            {
                metrics.AddMeter(GatekeeperMetrics.MeterName, "System.Runtime");
                // Exemplars would copy tags, time and trace ids on every measurement of a traced call; measurable at
                // this call rate (see the README's overhead figures). OTEL_METRICS_EXEMPLAR_FILTER=trace_based restores them.
                if (string.IsNullOrEmpty(configuration["OTEL_METRICS_EXEMPLAR_FILTER"]))
                {
                    metrics.SetExemplarFilter(ExemplarFilterType.AlwaysOff);
                }
            });
            otel.WithLogging(configureBuilder: null, configureOptions: options => options.IncludeFormattedMessage = true);
            // The host's filters (Logging:LogLevel, the OpenTelemetry provider alias) decide; the SDK's factory passes all.
            otel.Services.Configure<LoggerFilterOptions>(filters => filters.MinLevel = LogLevel.Trace);
            otel.UseOtlpExporter();
        });
        return new GatekeeperTelemetry(sdk, serviceName, string.Empty, traces.ToString(), metrics.ToString(), logs.ToString());
    }

    /// <summary>Logs whether export is on, and where each signal goes; from then on, export problems too.</summary>
    public void LogState(ILogger logger)
    {
        if (Enabled)
        {
            TelemetryLog.Enabled(logger, ServiceName, _traces, _metrics, _logs);
            _diagnostics ??= new ExporterDiagnostics(logger);
        }
        else
        {
            TelemetryLog.Disabled(logger, _disabledReason);
        }
    }

    /// <summary>Reports the audit queue, policy version and Redis breaker of this host through the observable gauges.</summary>
    public void Observe(AuditLog? audit, PolicyProvider policies, CircuitBreaker? breaker)
    {
        _observation?.Dispose();
        _observation = ObservedServers.Register(audit, policies, breaker);
    }

    /// <summary>Stops observing the host and, when enabled, flushes and shuts the SDK down.</summary>
    public void Dispose()
    {
        _observation?.Dispose();
        _observation = null;
        _sdk?.Dispose();
        _diagnostics?.Dispose();
    }

    /// <summary>
    /// Hands the host's loggers to the SDK's logger factory. The host owns filtering; the SDK owns the provider
    /// (disposed with the SDK, never by the host).
    /// </summary>
    [ProviderAlias("OpenTelemetry")]
    private sealed class ForwardingLoggerProvider(ILoggerFactory sdkLoggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => sdkLoggers.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }

    private static string Version()
    {
        var assembly = typeof(GatekeeperTelemetry).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
