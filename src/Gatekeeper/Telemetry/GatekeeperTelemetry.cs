using System.Reflection;
using Gatekeeper.Audit;
using Gatekeeper.Caching;
using Gatekeeper.Policy;
using Gatekeeper.Telemetry.Otlp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Logs;
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

    /// <summary>The setting that chooses the trace exporter: <c>gatekeeper</c> (the default) or <c>sdk</c>.</summary>
    public const string TraceExporterKey = "Gatekeeper:TraceExporter";

    // Settings only the SDK's OTLP exporter implements: when any is set, it exports the spans too.
    private static readonly string[] SdkOnlySettings =
    [
        "OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
        "OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_SPAN_EVENT_COUNT_LIMIT",
        "OTEL_SPAN_LINK_COUNT_LIMIT", "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    ];

    private readonly OpenTelemetrySdk? _sdk;
    private readonly OtlpSpanProcessor? _spanProcessor;
    private readonly string _disabledReason;
    private readonly string _traces;
    private readonly string _metrics;
    private readonly string _logs;
    private IDisposable? _observation;

    private GatekeeperTelemetry(OpenTelemetrySdk? sdk, OtlpSpanProcessor? spanProcessor, string serviceName, string disabledReason, string traces = "", string metrics = "", string logs = "")
    {
        _sdk = sdk;
        _spanProcessor = spanProcessor;
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
            return new GatekeeperTelemetry(null, null, string.Empty, "OTEL_SDK_DISABLED is true");
        }

        if (string.IsNullOrWhiteSpace(configuration[EndpointKey]))
        {
            return new GatekeeperTelemetry(null, null, string.Empty, EndpointKey + " is not set");
        }

        var traces = OtlpSettings.Read(configuration, "TRACES", "v1/traces");
        var metrics = OtlpSettings.Read(configuration, "METRICS", "v1/metrics");
        var logs = OtlpSettings.Read(configuration, "LOGS", "v1/logs");
        var sdkExportsSpans = SdkTraceExporterReason(configuration);
        OtlpSpanProcessor? spanProcessor = null;
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
            otel.WithTracing(tracing =>
            {
                tracing.AddSource(GatekeeperMetrics.MeterName);
                if (sdkExportsSpans is null)
                {
                    // With the OTEL_BSP_* settings the SDK read from the configuration.
                    tracing.AddProcessor(services => spanProcessor = new OtlpSpanProcessor(
                        new OtlpTransport(traces),
                        services.GetService<IOptionsMonitor<BatchExportActivityProcessorOptions>>()?.CurrentValue ?? new BatchExportActivityProcessorOptions()));
                }
            });
            // System.Runtime: the runtime's own GC, thread pool and exception metrics, observed at export time only.
            otel.WithMetrics(meters =>
            {
                meters.AddMeter(GatekeeperMetrics.MeterName, "System.Runtime");
                // Exemplars would copy tags, time and trace ids on every measurement of a traced call; measurable at
                // this call rate (see the README's overhead figures). OTEL_METRICS_EXEMPLAR_FILTER=trace_based restores them.
                if (string.IsNullOrEmpty(configuration["OTEL_METRICS_EXEMPLAR_FILTER"]))
                {
                    meters.SetExemplarFilter(ExemplarFilterType.AlwaysOff);
                }

                if (sdkExportsSpans is null)
                {
                    meters.AddOtlpExporter((exporter, _) => metrics.ApplyTo(exporter));
                }
            });
            otel.WithLogging(
                logging =>
                {
                    if (sdkExportsSpans is null)
                    {
                        logging.AddOtlpExporter(logs.ApplyTo);
                    }
                },
                options => options.IncludeFormattedMessage = true);
            // The host's filters (Logging:LogLevel, the OpenTelemetry provider alias) decide; the SDK's factory passes all.
            otel.Services.Configure<LoggerFilterOptions>(filters => filters.MinLevel = LogLevel.Trace);
            if (sdkExportsSpans is not null)
            {
                otel.UseOtlpExporter();
            }
        });
        var traceExporter = sdkExportsSpans is null ? "the gatekeeper's exporter" : $"the SDK's exporter, because {sdkExportsSpans}";
        return new GatekeeperTelemetry(sdk, spanProcessor, serviceName, string.Empty, $"{Describe(traces)} by {traceExporter}", Describe(metrics), Describe(logs));
    }

    /// <summary>Logs whether export is on, and where to; from then on span export failures are logged there too.</summary>
    public void LogState(ILogger logger)
    {
        if (Enabled)
        {
            TelemetryLog.Enabled(logger, ServiceName, _traces, _metrics, _logs);
            _spanProcessor?.Logger = logger;
        }
        else
        {
            TelemetryLog.Disabled(logger, _disabledReason);
        }
    }

    /// <summary>Why the SDK's own exporter must export the spans (a setting only it implements), or null.</summary>
    private static string? SdkTraceExporterReason(IConfiguration configuration)
    {
        switch (configuration[TraceExporterKey]?.Trim().ToLowerInvariant())
        {
            case null or "" or "gatekeeper":
                break;
            case "sdk":
                return TraceExporterKey + " is sdk";
            case var other:
                throw new InvalidOperationException($"{TraceExporterKey} '{other}' is not supported: use gatekeeper or sdk.");
        }

        return SdkOnlySettings.FirstOrDefault(key => !string.IsNullOrEmpty(configuration[key])) is { } setting ? setting + " is set" : null;
    }

    private static string Describe(OtlpSettings settings) =>
        $"{settings.Endpoint} ({(settings.Protocol == OtlpProtocol.Grpc ? "grpc" : "http/protobuf")}{(settings.Gzip ? ", gzip" : string.Empty)})";

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
