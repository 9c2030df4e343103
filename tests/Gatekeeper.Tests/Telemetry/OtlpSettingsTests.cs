using Gatekeeper.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Gatekeeper.Tests.Telemetry;

public sealed class OtlpSettingsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    [Fact]
    public void Read_GeneralEndpointWithHttpProtobuf_AppendsTheSignalPath()
    {
        var settings = OtlpSettings.Read(Config(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/base/"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")), "TRACES", "v1/traces");

        Assert.Equal(new Uri("http://collector:4318/base/v1/traces"), settings.Endpoint);
        Assert.Equal(OtlpProtocol.HttpProtobuf, settings.Protocol);
    }

    [Fact]
    public void Read_GeneralEndpointWithGrpc_UsesItAsItIs()
    {
        var settings = OtlpSettings.Read(Config(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")), "TRACES", "v1/traces");

        Assert.Equal(new Uri("http://collector:4317"), settings.Endpoint);
        Assert.Equal(OtlpProtocol.Grpc, settings.Protocol);
    }

    [Fact]
    public void Read_SignalSettings_OverrideTheGeneralOnesForThatSignalOnly()
    {
        var config = Config(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "500"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"));

        var traces = OtlpSettings.Read(config, "TRACES", "v1/traces");
        var metrics = OtlpSettings.Read(config, "METRICS", "v1/metrics");

        // The signal's own endpoint is used as it is, without a path appended.
        Assert.Equal(new Uri("http://traces:9999/custom"), traces.Endpoint);
        Assert.Equal([new("b", "2")], traces.Headers);
        Assert.Equal(TimeSpan.FromMilliseconds(500), traces.Timeout);
        Assert.True(traces.Gzip);
        Assert.Equal(new Uri("http://collector:4318/v1/metrics"), metrics.Endpoint);
        Assert.Equal([new("a", "1")], metrics.Headers);
        Assert.Equal(TimeSpan.FromSeconds(2), metrics.Timeout);
        Assert.False(metrics.Gzip);
    }

    [Fact]
    public void Read_NothingButTheEndpoint_DefaultsToGrpcTenSecondsNoHeadersNoCompression()
    {
        var settings = OtlpSettings.Read(Config(("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector")), "LOGS", "v1/logs");

        Assert.Equal(OtlpProtocol.Grpc, settings.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.Timeout);
        Assert.Empty(settings.Headers);
        Assert.False(settings.Gzip);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp")]
    [InlineData("OTEL_EXPORTER_OTLP_TIMEOUT", "ten")]
    [InlineData("OTEL_EXPORTER_OTLP_TIMEOUT", "0")]
    [InlineData("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "collector:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "bad name=x")]
    public void Read_MalformedSetting_FailsNamingIt(string key, string value)
    {
        var config = Config(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"), (key, value));

        var error = Assert.Throws<InvalidOperationException>(() => OtlpSettings.Read(config, "TRACES", "v1/traces"));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseHeaders_BaggageFormat_TrimsAndPercentDecodesValues()
    {
        var headers = OtlpSettings.ParseHeaders(" api-key = secret%20value%2C1 ,tenant=council,,", "OTEL_EXPORTER_OTLP_HEADERS");

        Assert.Equal([new("api-key", "secret value,1"), new("tenant", "council")], headers);
    }
}
