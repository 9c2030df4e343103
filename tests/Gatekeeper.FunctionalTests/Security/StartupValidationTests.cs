using Microsoft.Extensions.Options;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>Transport settings that would expose the service are refused at start-up, every one of them at once.</summary>
public sealed class StartupValidationTests
{
    private const string Callers = "callers:\n  anonymous-loopback:\n    categories: '*'\n    purposes: '*'\n";

    [Fact]
    public async Task Start_PlainTextOnAllInterfaces_RefusedUnlessAllowInsecure()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => SecureServer.StartAsync(Callers, "--urls", "http://0.0.0.0:0"));

        Assert.Contains(error.Failures, f => f.Contains("http://0.0.0.0:0: plain-text HTTP/2 is only served on loopback", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_PlainTextOnAllInterfacesWithAllowInsecure_StartsAndWarns()
    {
        await using var server = await SecureServer.StartAsync(Callers, "--urls", "http://0.0.0.0:0", "--Gatekeeper:AllowInsecure=true");

        Assert.Contains(server.Logs.Records, r => r.EventId.Name == "InsecureServing");
    }

    [Fact]
    public async Task Start_SeveralInvalidSettings_AllReportedTogether()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => SecureServer.StartAsync(
            Callers,
            "--urls", "https://127.0.0.1:0",
            "--Gatekeeper:Tls:KeyPath=/nonexistent/key.pem",
            "--Gatekeeper:Tls:ClientCaPath=/nonexistent/ca.pem",
            "--Gatekeeper:RateLimit:Burst=0",
            "--Gatekeeper:Limits:MaxStreamsPerConnection=0",
            "--Gatekeeper:Limits:MaxFrameSize=100"));

        var failures = string.Join("\n", error.Failures);
        Assert.Contains("CertificatePath and Gatekeeper:Tls:KeyPath go together", failures, StringComparison.Ordinal);
        Assert.Contains("ClientCaPath needs", failures, StringComparison.Ordinal);
        Assert.Contains("file '/nonexistent/key.pem' does not exist", failures, StringComparison.Ordinal);
        Assert.Contains("Gatekeeper:RateLimit:Burst must be at least 1", failures, StringComparison.Ordinal);
        Assert.Contains("MaxStreamsPerConnection must be at least 1", failures, StringComparison.Ordinal);
        Assert.Contains("MaxFrameSize must be between 16384", failures, StringComparison.Ordinal);
        Assert.Contains("https://127.0.0.1:0: an https address needs", failures, StringComparison.Ordinal);
    }
}
