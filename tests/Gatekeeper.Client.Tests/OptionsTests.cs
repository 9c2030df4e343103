using System.Security.Cryptography.X509Certificates;
using Gatekeeper.Client.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Client.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Constructor_NoAddress_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => new GatekeeperClient(new GatekeeperClientOptions()));

        Assert.Contains("Address", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_SeveralInvalidSettings_ReportsAllAtOnce()
    {
        var options = new GatekeeperClientOptions
        {
            Address = new Uri("ftp://host"),
            MaxReceiveMessageSize = 0,
            DefaultDeadline = TimeSpan.FromSeconds(-1),
            KeepAlivePingTimeout = TimeSpan.Zero,
        };

        var ex = Assert.Throws<ArgumentException>(() => new GatekeeperClient(options));

        Assert.Contains("Address", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxReceiveMessageSize", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DefaultDeadline", ex.Message, StringComparison.Ordinal);
        Assert.Contains("KeepAlivePingTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_TrustedCaWithPlainTextAddress_Throws()
    {
        var options = new GatekeeperClientOptions { Address = new Uri("http://127.0.0.1:5000"), TrustedCa = [] };

        var ex = Assert.Throws<ArgumentException>(() => new GatekeeperClient(options));

        Assert.Contains("https", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_OwnHandler_UsesAddress()
    {
        using var client = new GatekeeperClient(new GatekeeperClientOptions { Address = new Uri("http://127.0.0.1:5000") });

        Assert.Equal(new Uri("http://127.0.0.1:5000"), client.Address);
    }

    [Fact]
    public void Constructor_HttpsWithClientCertificateAndCa_IsAccepted()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new CertificateRequest("CN=client", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var options = new GatekeeperClientOptions
        {
            Address = new Uri("https://gatekeeper.internal:443"),
            ClientCertificate = certificate,
            TrustedCa = [certificate],
        };

        using var client = new GatekeeperClient(options);

        Assert.Equal("https", client.Address.Scheme);
    }

    [Fact]
    public void Constructor_HttpClientBaseAddress_IsUsedWithoutOptions()
    {
        using var client = new GatekeeperClient(new HttpClient(FakeHandler.Hanging()) { BaseAddress = new Uri("http://10.0.0.1:7000") });

        Assert.Equal(new Uri("http://10.0.0.1:7000"), client.Address);
    }

    [Fact]
    public void Constructor_HttpClientWithoutBaseAddressOrOptionsAddress_Throws() =>
        Assert.Throws<ArgumentException>(() => new GatekeeperClient(new HttpClient(FakeHandler.Hanging())));

    [Fact]
    public void Defaults_AreDocumentedValues()
    {
        var options = new GatekeeperClientOptions();

        Assert.Equal(4 * 1024 * 1024, options.MaxReceiveMessageSize);
        Assert.Null(options.DefaultDeadline);
        Assert.False(options.CompressRequests);
        Assert.Equal(TimeSpan.FromMinutes(5), options.PooledConnectionLifetime);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void AddGatekeeperClient_ValidOptions_ResolvesOneSharedClient()
    {
        var services = new ServiceCollection();
        services.AddGatekeeperClient(o => o.Address = new Uri("http://127.0.0.1:5000"));
        using var provider = services.BuildServiceProvider();

        var first = provider.GetRequiredService<GatekeeperClient>();
        var second = provider.GetRequiredService<GatekeeperClient>();

        Assert.Same(first, second);
        Assert.Equal(new Uri("http://127.0.0.1:5000"), first.Address);
    }

    [Fact]
    public void AddGatekeeperClient_InvalidOptions_FailsListingEveryProblem()
    {
        var services = new ServiceCollection();
        services.AddGatekeeperClient(o => o.MaxReceiveMessageSize = -1);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<GatekeeperClient>());

        Assert.Contains(ex.Failures, f => f.Contains("Address", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("MaxReceiveMessageSize", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddGatekeeperClient_ExtraHandler_IsInThePipeline()
    {
        var services = new ServiceCollection();
        var handler = new FakeHandler(() => TestClient.Ok(Infrastructure.Wire.Frame(new Gatekeeper.V1.DecideResponse())));
        services.AddGatekeeperClient(o => o.Address = new Uri("http://127.0.0.1:5000"))
            .ConfigurePrimaryHttpMessageHandler(() => handler);
        using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<GatekeeperClient>().DecideAsync(new Gatekeeper.V1.DecideRequest());

        Assert.Equal(new Uri("http://127.0.0.1:5000/gatekeeper.v1.Gatekeeper/Decide"), handler.LastRequest!.Uri);
    }
}
