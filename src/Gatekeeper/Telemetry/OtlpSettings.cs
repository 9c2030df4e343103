using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Gatekeeper.Telemetry;

/// <summary>The two OTLP transports the SDK's exporter speaks.</summary>
internal enum OtlpProtocol
{
    Grpc,
    HttpProtobuf,
}

/// <summary>
/// Where and how one signal (traces, metrics or logs) is exported, from the standard variables: the signal's own
/// <c>OTEL_EXPORTER_OTLP_{SIGNAL}_*</c> setting when present, else the general <c>OTEL_EXPORTER_OTLP_*</c> one
/// (OpenTelemetry specification, "OTLP Exporter Configuration"), as the SDK's <c>UseOtlpExporter</c> resolves them.
/// Read at start-up so that a malformed setting stops the service with a message naming it (the SDK reports such
/// settings on its EventSource at best, which nobody reads at start-up), and so that the start-up log can say where
/// each signal goes. The headers are parsed to be checked, never logged: they often carry an API key.
/// </summary>
internal sealed record OtlpSettings(Uri Endpoint, OtlpProtocol Protocol, IReadOnlyList<KeyValuePair<string, string>> Headers, TimeSpan Timeout, bool Gzip)
{
    private const string Prefix = "OTEL_EXPORTER_OTLP_";

    /// <summary>
    /// Reads the settings of <paramref name="signal"/> (<c>TRACES</c>, <c>METRICS</c> or <c>LOGS</c>). With
    /// http/protobuf the general endpoint gets the signal's path (<paramref name="path"/>, e.g. <c>v1/traces</c>)
    /// appended; the signal's own endpoint is used as it is.
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting is present but malformed; the message names it.</exception>
    public static OtlpSettings Read(IConfiguration configuration, string signal, string path)
    {
        var protocol = Setting(configuration, signal, "PROTOCOL", out var protocolKey) switch
        {
            null or "" or "grpc" => OtlpProtocol.Grpc,
            "http/protobuf" => OtlpProtocol.HttpProtobuf,
            var other => throw new InvalidOperationException($"{protocolKey} '{other}' is not supported: use grpc or http/protobuf."),
        };

        Uri endpoint;
        if (Setting(configuration, signal, "ENDPOINT", out var endpointKey, generalToo: false) is { Length: > 0 } own)
        {
            endpoint = Absolute(own, endpointKey);
        }
        else
        {
            var general = configuration[Prefix + "ENDPOINT"];
            endpoint = general is { Length: > 0 }
                ? Absolute(general, Prefix + "ENDPOINT")
                : new Uri(protocol == OtlpProtocol.Grpc ? "http://localhost:4317" : "http://localhost:4318");
            if (protocol == OtlpProtocol.HttpProtobuf)
            {
                endpoint = new Uri(endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + path);
            }
        }

        var timeoutText = Setting(configuration, signal, "TIMEOUT", out var timeoutKey);
        var timeout = TimeSpan.FromSeconds(10);
        if (timeoutText is { Length: > 0 })
        {
            if (!int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) || milliseconds <= 0)
            {
                throw new InvalidOperationException($"{timeoutKey} '{timeoutText}' is not a positive number of milliseconds.");
            }

            timeout = TimeSpan.FromMilliseconds(milliseconds);
        }

        var gzip = Setting(configuration, signal, "COMPRESSION", out var compressionKey) switch
        {
            null or "" or "none" => false,
            "gzip" => true,
            var other => throw new InvalidOperationException($"{compressionKey} '{other}' is not supported: use gzip or none."),
        };

        var headersText = Setting(configuration, signal, "HEADERS", out var headersKey);
        return new OtlpSettings(endpoint, protocol, ParseHeaders(headersText, headersKey), timeout, gzip);
    }

    /// <summary>
    /// Parses <c>key1=value1,key2=value2</c> (the W3C baggage format without properties); values are
    /// percent-decoded, surrounding spaces are trimmed.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseHeaders(string? text, string key)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? pair[..equals].Trim() : string.Empty;
            if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 0x7f || "()<>@,;:\\\"/[]?={}".Contains(c, StringComparison.Ordinal)))
            {
                throw new InvalidOperationException($"{key}: '{pair}' is not a header of the form name=value.");
            }

            headers.Add(new(name, Uri.UnescapeDataString(pair[(equals + 1)..].Trim())));
        }

        return headers;
    }

    /// <summary>The URL, protocol and compression, as the start-up log shows them.</summary>
    public override string ToString() =>
        $"{Endpoint} ({(Protocol == OtlpProtocol.Grpc ? "grpc" : "http/protobuf")}{(Gzip ? ", gzip" : string.Empty)})";

    private static string? Setting(IConfiguration configuration, string signal, string name, out string key, bool generalToo = true)
    {
        key = Prefix + signal + "_" + name;
        if (configuration[key] is { Length: > 0 } own)
        {
            return own.Trim();
        }

        if (!generalToo)
        {
            return null;
        }

        key = Prefix + name;
        return configuration[key]?.Trim();
    }

    private static Uri Absolute(string text, string key)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"{key} '{text}' is not an absolute http:// or https:// URI (e.g. http://localhost:4317).");
        }

        return uri;
    }
}
