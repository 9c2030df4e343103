using Gatekeeper.FunctionalTests.Admin;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>
/// gRPC implementations nobody here wrote connect over mutual TLS: Python grpcio
/// (<c>grpc.ssl_channel_credentials(root, key, chain)</c>) and Node grpc-js (<c>credentials.createSsl</c>),
/// with and without a client certificate.
/// </summary>
public sealed class MutualTlsInteropTests : IAsyncLifetime
{
    private const string Peer = "spiffe://council.test/interop-peer";
    private const string Admin = "spiffe://council.test/admin";

    private readonly TestPki _pki = new();
    private SecureServer _server = null!;
    private ClientCredentials _peer = null!;
    private ClientCredentials _admin = null!;

    public async Task InitializeAsync()
    {
        _peer = _pki.IssueClient("peer", uri: Peer);
        _admin = _pki.IssueClient("admin", uri: Admin);
        _server = await SecureServer.StartTlsAsync(
            _pki, $"callers:\n  {Peer}:\n    categories: '*'\n    purposes: '*'\n  {Admin}:\n    admin: '*'\n", mutual: true);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _pki.Dispose();
    }

    private async Task AssertTrustedAnsweredAndNoCertRefusedAsync(PeerRun run)
    {
        var trusted = run.Case("trusted");
        Assert.True(trusted.GetProperty("code").GetString() == "OK", trusted.ToString());
        Assert.Equal("DECISION_ALLOW_WITH_CONDITIONS", trusted.GetProperty("decision").GetString());
        var noCert = run.Case("no_cert");
        Assert.True(noCert.GetProperty("code").GetString() == "UNAVAILABLE", noCert.ToString());

        using var admin = _server.CreateClient(_pki, _admin);
        var records = await admin.QueryAllAsync(new QueryAuditRequest { DecisionId = trusted.GetProperty("decision_id").GetString() });
        Assert.Equal(Peer, Assert.Single(records).Caller);
    }

    [Fact]
    public async Task Python_GrpcioOverMutualTls_TrustedAnsweredAndAuditedAndNoCertificateRefused()
    {
        using var scratch = new TempDirectory();

        var run = await PeerRun.RunAsync(
            null,
            InteropEnvironment.RequirePython,
            InteropEnvironment.Python,
            ["mtls_client.py", "--target", $"127.0.0.1:{_server.Address.Port}", "--protos", InteropEnvironment.ProtosDirectory, "--scratch", scratch.Path, "--ca", _pki.CaPath, "--cert", _peer.CertificatePath, "--key", _peer.KeyPath],
            InteropEnvironment.PythonDirectory,
            TimeSpan.FromSeconds(90));

        await AssertTrustedAnsweredAndNoCertRefusedAsync(run);
    }

    [Fact]
    public async Task Node_GrpcJsOverMutualTls_TrustedAnsweredAndAuditedAndNoCertificateRefused()
    {
        var run = await PeerRun.RunAsync(
            null,
            InteropEnvironment.RequireNode,
            "node",
            ["mtls_client.js", "--target", $"127.0.0.1:{_server.Address.Port}", "--protos", InteropEnvironment.ProtosDirectory, "--ca", _pki.CaPath, "--cert", _peer.CertificatePath, "--key", _peer.KeyPath],
            InteropEnvironment.NodeDirectory,
            TimeSpan.FromSeconds(90));

        await AssertTrustedAnsweredAndNoCertRefusedAsync(run);
    }
}
