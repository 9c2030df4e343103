using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Hosting;
using Gatekeeper.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>
/// The real gatekeeper host on 127.0.0.1 with a free port, over TLS (or plain text) with a test policy whose
/// callers section the test writes: the default policy's vocabulary and rules plus <c>callers.yaml</c>.
/// </summary>
public sealed class SecureServer : IAsyncDisposable
{
    private SecureServer(WebApplication app, LogSink logs, string dataDirectory, string policyDirectory)
    {
        App = app;
        Logs = logs;
        DataDirectory = dataDirectory;
        PolicyDirectory = policyDirectory;
        Address = new Uri(app.Urls.First());
    }

    public WebApplication App { get; }

    public LogSink Logs { get; }

    public string DataDirectory { get; }

    public string PolicyDirectory { get; }

    public Uri Address { get; }

    /// <summary>The default policy with <paramref name="callersYaml"/> as its callers section.</summary>
    public static string WritePolicy(string callersYaml)
    {
        var folder = Directory.CreateTempSubdirectory("gk-sec-policy-").FullName;
        var source = Path.Combine(InteropEnvironment.RepoRoot, "policies");
        foreach (var file in Directory.GetFiles(source, "*.yaml"))
        {
            var name = Path.GetFileName(file);
            if (name is not "callers.yaml" && !name.EndsWith(".tests.yaml", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(folder, name));
            }
        }

        File.WriteAllText(Path.Combine(folder, "callers.yaml"), callersYaml);
        return folder;
    }

    /// <summary>Starts over https with the given server certificate (and client CA when mutual); <paramref name="extraArgs"/> are more settings.</summary>
    public static Task<SecureServer> StartTlsAsync(string callersYaml, string certificatePath, string keyPath, string? clientCaPath, params string[] extraArgs) =>
        StartTlsAsync(callersYaml, certificatePath, keyPath, clientCaPath, null, extraArgs);

    /// <summary>As above; <paramref name="configure"/> adds to the host (e.g. test-only gRPC methods).</summary>
    public static Task<SecureServer> StartTlsAsync(string callersYaml, string certificatePath, string keyPath, string? clientCaPath, Action<WebApplicationBuilder>? configure, params string[] extraArgs)
    {
        List<string> args = ["--urls", "https://127.0.0.1:0", $"--Gatekeeper:Tls:CertificatePath={certificatePath}", $"--Gatekeeper:Tls:KeyPath={keyPath}"];
        if (clientCaPath is not null)
        {
            args.Add($"--Gatekeeper:Tls:ClientCaPath={clientCaPath}");
        }

        args.AddRange(extraArgs);
        return StartAsync(callersYaml, configure, [.. args]);
    }

    /// <summary>
    /// Issues a server certificate from <paramref name="pki"/> and starts over https, requiring client certificates
    /// from its CA when <paramref name="mutual"/>. Disposes <paramref name="pki"/> when the start fails: xunit does
    /// not call DisposeAsync after a failed InitializeAsync, so the PKI folder would stay behind.
    /// </summary>
    public static async Task<SecureServer> StartTlsAsync(TestPki pki, string callersYaml, bool mutual, Action<WebApplicationBuilder>? configure = null)
    {
        try
        {
            var server = pki.IssueServer("server");
            return await StartTlsAsync(callersYaml, server.CertificatePath, server.KeyPath, mutual ? pki.CaPath : null, configure);
        }
        catch
        {
            pki.Dispose();
            throw;
        }
    }

    /// <summary>Starts with the given settings (plain text on loopback unless they say otherwise).</summary>
    public static Task<SecureServer> StartAsync(string callersYaml, params string[] extraArgs) => StartAsync(callersYaml, null, extraArgs);

    /// <summary>As above; <paramref name="configure"/> adds to the host (e.g. test-only gRPC methods).</summary>
    public static async Task<SecureServer> StartAsync(string callersYaml, Action<WebApplicationBuilder>? configure, params string[] extraArgs)
    {
        var logs = new LogSink();
        var dataDirectory = Directory.CreateTempSubdirectory("gk-sec-data-").FullName;
        var policyDirectory = WritePolicy(callersYaml);
        string[] args = ["--urls", "http://127.0.0.1:0", $"--Gatekeeper:DataDirectory={dataDirectory}", $"--Gatekeeper:PolicyPath={policyDirectory}", .. extraArgs];
        WebApplication? app = null;
        try
        {
            app = GatekeeperApp.Build(args, builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(logs);
                builder.Logging.SetMinimumLevel(LogLevel.Debug);
                builder.AddGatekeeperSecurity();
                configure?.Invoke(builder);
            });
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StartAsync(cts.Token);
            return new SecureServer(app, logs, dataDirectory, policyDirectory);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            Directory.Delete(dataDirectory, recursive: true);
            Directory.Delete(policyDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>A client of this server trusting <paramref name="ca"/>, presenting <paramref name="client"/> when given.</summary>
    public GatekeeperClient CreateClient(TestPki? ca = null, ClientCredentials? client = null) => new(new GatekeeperClientOptions
    {
        Address = Address,
        DefaultDeadline = TimeSpan.FromSeconds(15),
        TrustedCa = ca is null ? null : [ca.Ca],
        ClientCertificate = client?.Certificate,
    });

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await App.StopAsync(cts.Token);
        }
        finally
        {
            await App.DisposeAsync();
            Directory.Delete(DataDirectory, recursive: true);
            Directory.Delete(PolicyDirectory, recursive: true);
        }
    }
}
