using Gatekeeper.Security;

namespace Gatekeeper.Tests.Security;

/// <summary>Which addresses get the TLS record coalescer: those whose port only https addresses use.</summary>
public sealed class KestrelSecurityTests
{
    [Fact]
    public void CoalescedTlsPorts_HttpsOnlyPorts()
    {
        var ports = KestrelSecurity.CoalescedTlsPorts(["https://0.0.0.0:5001", "http://127.0.0.1:5000", "https://localhost:0"]);

        Assert.Equal([0, 5001], ports.Order());
    }

    [Fact]
    public void CoalescedTlsPorts_PortAlsoUsedByPlainText_KeepsKestrelsTls()
    {
        // https://127.0.0.1:0 and http://[::1]:0 both arrive as port 0: the endpoint cannot tell which it is.
        var ports = KestrelSecurity.CoalescedTlsPorts(["https://127.0.0.1:0", "http://[::1]:0", "https://*:7443", "http://+:7443"]);

        Assert.Empty(ports);
    }

    [Fact]
    public void CoalescedTlsPorts_PipesAndUnparsableAddressesIgnored()
    {
        var ports = KestrelSecurity.CoalescedTlsPorts(["https://unix:/tmp/gk.sock", "not a url", "https://[::]:8443"]);

        Assert.Equal([8443], ports);
    }
}
