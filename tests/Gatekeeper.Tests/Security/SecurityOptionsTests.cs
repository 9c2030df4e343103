using Gatekeeper.Security;

namespace Gatekeeper.Tests.Security;

/// <summary>Start-up validation of the transport and abuse-limit settings.</summary>
public sealed class SecurityOptionsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5000")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://[::1]:5000")]
    [InlineData("http://127.0.0.2:0")]
    public void Validate_PlainTextOnLoopback_Valid(string url) =>
        Assert.Empty(new SecurityOptions().Validate([url]));

    [Theory]
    [InlineData("http://0.0.0.0:5000")]
    [InlineData("http://*:5000")]
    [InlineData("http://+:5000")]
    [InlineData("http://[::]:5000")]
    [InlineData("http://10.1.2.3:5000")]
    [InlineData("http://gatekeeper.council.internal:5000")]
    public void Validate_PlainTextOffLoopback_RefusedUnlessAllowInsecure(string url)
    {
        Assert.Contains(new SecurityOptions().Validate([url]), e => e.Contains("plain-text HTTP/2 is only served on loopback", StringComparison.Ordinal));
        Assert.Empty(new SecurityOptions { AllowInsecure = true }.Validate([url]));
    }

    [Fact]
    public void Validate_Defaults_Valid() =>
        Assert.Empty(new SecurityOptions().Validate(["http://127.0.0.1:5000"]));

    [Fact]
    public void Validate_EveryBadLimit_EachReported()
    {
        var options = new SecurityOptions
        {
            RateLimit = { PermitsPerSecond = double.NaN, Burst = 0 },
            Limits =
            {
                MaxStreamsPerConnection = 0,
                MaxConcurrentConnections = -1,
                HeaderTableSize = -1,
                MaxRequestHeaderFieldSize = 10,
                MaxRequestHeadersTotalSize = 10,
                MaxRequestHeaderCount = 1,
                MaxRequestBodySize = -1,
                MaxFrameSize = 1,
                KeepAliveTimeout = TimeSpan.Zero,
                KeepAlivePingDelay = TimeSpan.FromDays(2),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(-1),
                RequestHeadersTimeout = TimeSpan.Zero,
                TlsHandshakeTimeout = TimeSpan.Zero,
                MinRequestBodyDataRate = -1,
                MinResponseDataRate = double.PositiveInfinity,
            },
            Tls = { ReloadInterval = TimeSpan.Zero },
        };

        var errors = options.Validate(["http://127.0.0.1:1"]).ToList();

        Assert.Equal(18, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("Gatekeeper:", e, StringComparison.Ordinal));
    }

    [Fact]
    public void EffectiveMaxRequestBodySize_NotSet_TwoMessagesAndPrefixes()
    {
        Assert.Equal(2 * (4L * 1024 * 1024 + 5), new ServerLimitsOptions().EffectiveMaxRequestBodySize(4 * 1024 * 1024));
        Assert.Equal(1234, new ServerLimitsOptions { MaxRequestBodySize = 1234 }.EffectiveMaxRequestBodySize(4 * 1024 * 1024));
    }
}
