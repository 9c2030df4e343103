using System.Text.Json;

namespace Gatekeeper.FunctionalTests.Infrastructure;

/// <summary>
/// The outcome of running a peer program that prints one JSON object per line, each with a "case" field.
/// Interop fixtures run the peer once; every test then judges one case. A peer that could not run at all
/// (missing dependency, crash, timeout) makes every test of the class fail with that reason.
/// </summary>
public sealed class PeerRun
{
    private readonly Dictionary<string, JsonElement> _cases;
    private readonly Exception? _failure;

    private PeerRun(Dictionary<string, JsonElement> cases, string output, IReadOnlyList<LogRecord> serverErrors, Exception? failure)
    {
        _cases = cases;
        Output = output;
        ServerErrors = serverErrors;
        _failure = failure;
    }

    /// <summary>What the peer printed (for failure messages).</summary>
    public string Output { get; }

    /// <summary>Error-level entries the server logged while the peer ran.</summary>
    public IReadOnlyList<LogRecord> ServerErrors { get; }

    /// <summary>
    /// Runs <paramref name="fileName"/> to completion against <paramref name="server"/> (null for a peer that
    /// talks to no gatekeeper) and collects its case lines.
    /// </summary>
    public static async Task<PeerRun> RunAsync(GatekeeperServer? server, Action requireTools, string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(requireTools);
        var start = server?.Logs.Count ?? 0;
        try
        {
            requireTools();
            using var peer = PeerProcess.Start(fileName, arguments, workingDirectory);
            var exitCode = await peer.WaitForExitAsync(timeout);
            var output = peer.Describe();
            var cases = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var line in peer.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                using var document = JsonDocument.Parse(line);
                cases[document.RootElement.GetProperty("case").GetString()!] = document.RootElement.Clone();
            }

            Exception? failure = exitCode == 0 && cases.ContainsKey("done")
                ? null
                : new InvalidOperationException($"{peer.Description} exited with {exitCode} before finishing its cases.{output}");
            return new PeerRun(cases, output, Errors(server, start), failure);
        }
        catch (Exception ex)
        {
            return new PeerRun([], string.Empty, Errors(server, start), ex);
        }
    }

    /// <summary>The line of <paramref name="name"/>; throws the peer's failure, or a clear message when the case is missing.</summary>
    public JsonElement Case(string name)
    {
        if (_failure is not null)
        {
            throw new InvalidOperationException($"The interop peer did not run to completion: {_failure.Message}", _failure);
        }

        if (!_cases.TryGetValue(name, out var element))
        {
            throw new Xunit.Sdk.XunitException($"The peer printed no line for case '{name}'.{Output}");
        }

        if (element.TryGetProperty("error", out var error))
        {
            throw new Xunit.Sdk.XunitException($"The peer failed in case '{name}' outside gRPC:{Environment.NewLine}{error.GetString()}");
        }

        return element;
    }

    /// <summary>A string field of a case; throws with the whole line when it is absent.</summary>
    public string Field(string name, string field)
    {
        var element = Case(name);
        return element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new Xunit.Sdk.XunitException($"Case '{name}' has no string field '{field}': {element}");
    }

    private static List<LogRecord> Errors(GatekeeperServer? server, int start) =>
        server is null ? [] : [.. server.Logs.Since(start).Where(r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Error)];
}
