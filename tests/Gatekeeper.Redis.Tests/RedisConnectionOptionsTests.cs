using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Redis.Tests;

public sealed class RedisConnectionOptionsTests
{
    [Fact]
    public void Parse_EverySetting_IsApplied()
    {
        var options = RedisConnectionOptions.Parse(
            "cache.internal:6380, password=p@ss=word ,user=gatekeeper,ssl=true,sslHost=redis.example,defaultDatabase=3,connectTimeout=250,syncTimeout=750,abortConnect=false");

        Assert.Equal("cache.internal", options.Host);
        Assert.Equal(6380, options.Port);
        Assert.Equal("p@ss=word", options.Password);
        Assert.Equal("gatekeeper", options.User);
        Assert.True(options.Ssl);
        Assert.Equal("redis.example", options.SslHost);
        Assert.Equal(3, options.DefaultDatabase);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(750), options.CommandTimeout);
        Assert.False(options.AbortOnConnectFail);
    }

    [Fact]
    public void Parse_HostOnly_UsesDefaults()
    {
        var options = RedisConnectionOptions.Parse("localhost");

        Assert.Equal(6379, options.Port);
        Assert.Null(options.Password);
        Assert.False(options.Ssl);
        Assert.True(options.AbortOnConnectFail);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CommandTimeout);
    }

    [Theory]
    [InlineData("[::1]:7000", "::1", 7000)]
    [InlineData("::1", "::1", 6379)]
    [InlineData("10.0.0.5:6379", "10.0.0.5", 6379)]
    public void Parse_Endpoint_Forms(string text, string host, int port)
    {
        var options = RedisConnectionOptions.Parse(text);

        Assert.Equal(host, options.Host);
        Assert.Equal(port, options.Port);
    }

    [Fact]
    public void Parse_SeveralBadSettings_ReportsEveryProblemAtOnce()
    {
        var error = Assert.Throws<FormatException>(() => RedisConnectionOptions.Parse(
            "host:99999,ssl=yes,defaultDatabase=-1,connectTimeout=soon,bogus=1,user=alice,otherhost:1"));

        Assert.Contains("port='99999'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ssl='yes'", error.Message, StringComparison.Ordinal);
        Assert.Contains("defaultDatabase='-1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("connectTimeout='soon'", error.Message, StringComparison.Ordinal);
        Assert.Contains("unknown setting 'bogus'", error.Message, StringComparison.Ordinal);
        Assert.Contains("user is set without password", error.Message, StringComparison.Ordinal);
        Assert.Contains("only one endpoint", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("password=x")]
    public void Parse_NoEndpoint_Fails(string? text)
    {
        Assert.False(RedisConnectionOptions.TryParse(text, out _, out var errors));
        Assert.NotEmpty(errors);
    }

    [Fact]
    public void AddGatekeeperRedisCache_InvalidConfiguration_FailsValidationWithAllProblems()
    {
        using var services = new ServiceCollection()
            .AddGatekeeperRedisCache(o => o.Configuration = "localhost:0,ssl=maybe")
            .BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RedisCacheOptions>>().Value);

        Assert.Equal(2, error.Failures.Count());
    }

    [Fact]
    public void AddGatekeeperRedisCache_ReplacesAnEarlierDistributedCache()
    {
        var services = new ServiceCollection()
            .AddDistributedMemoryCache()
            .AddGatekeeperRedisCache(o => o.Configuration = "127.0.0.1:1,abortConnect=false");

        Assert.Equal(typeof(IDistributedCache), services.Last().ServiceType);
        Assert.Contains(services, d => d.ServiceType == typeof(RedisConnection));
    }

    [Fact]
    public void Connect_InvalidOptionsInCode_Throws()
    {
        var options = new RedisConnectionOptions { Port = 0, CommandTimeout = TimeSpan.Zero };

        var error = Assert.Throws<ArgumentException>(() => RedisConnection.Connect(options));

        Assert.Contains("Port 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("CommandTimeout", error.Message, StringComparison.Ordinal);
    }
}
