using Gatekeeper.Client.Tests.Infrastructure;
using Gatekeeper.V1;

namespace Gatekeeper.Client.Tests;

public sealed class MetadataTests
{
    [Fact]
    public void Add_UpperCaseKey_IsLowered()
    {
        var metadata = new Metadata { { "X-Request-Id", "abc" } };

        Assert.Equal("x-request-id", metadata[0].Key);
        Assert.Equal("abc", metadata.GetValue("x-request-id"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("colon:")]
    [InlineData(":path")]
    [InlineData("ümlaut")]
    [InlineData("grpc-status")]
    [InlineData("grpc-timeout")]
    [InlineData("content-type")]
    [InlineData("te")]
    [InlineData("user-agent")]
    public void Add_InvalidOrReservedKey_Throws(string key) =>
        Assert.ThrowsAny<ArgumentException>(() => new Metadata { { key, "v" } });

    [Theory]
    [InlineData("line\nbreak")]
    [InlineData("tab\t")]
    [InlineData("caf\u00E9")]
    public void Add_NonPrintableTextValue_Throws(string value) =>
        Assert.Throws<ArgumentException>(() => new Metadata { { "x-note", value } });

    [Fact]
    public void Add_StringValueForBinaryKey_Throws() =>
        Assert.Throws<ArgumentException>(() => new Metadata { { "x-bin", "text" } });

    [Fact]
    public void Add_BytesForTextKey_Throws() =>
        Assert.Throws<ArgumentException>(() => new Metadata { { "x-text", new byte[] { 1 } } });

    [Fact]
    public void Entry_Binary_ValueThrowsAndValueBytesWorks()
    {
        var metadata = new Metadata { { "x-bin", new byte[] { 1, 2 } } };

        Assert.True(metadata[0].IsBinary);
        Assert.Equal(new byte[] { 1, 2 }, metadata[0].ValueBytes);
        Assert.Throws<InvalidOperationException>(() => metadata[0].Value);
        Assert.Null(metadata.GetValue("x-bin"));
    }

    [Theory]
    [InlineData("AQIDBA==")]
    [InlineData("AQIDBA")]
    public async Task ResponseTrailers_BinaryPaddedOrUnpadded_AreDecoded(string encoded)
    {
        var response = TestClient.Ok(Wire.Frame(new DecideResponse()), trailers: [("grpc-status", "0"), ("blob-bin", encoded)]);
        using var client = TestClient.Create(new FakeHandler(() => response));

        var result = await client.UnaryCallAsync(GatekeeperMethods.Decide, new DecideRequest(), DecideResponse.Parser);

        Assert.Equal(new byte[] { 1, 2, 3, 4 }, result.Trailers.GetValueBytes("blob-bin"));
    }

    [Fact]
    public async Task ResponseTrailers_InvalidBase64_IsDroppedNotFatal()
    {
        var response = TestClient.Ok(Wire.Frame(new DecideResponse()), trailers: [("grpc-status", "0"), ("blob-bin", "A")]);
        using var client = TestClient.Create(new FakeHandler(() => response));

        var result = await client.UnaryCallAsync(GatekeeperMethods.Decide, new DecideRequest(), DecideResponse.Parser);

        Assert.Null(result.Trailers.GetValueBytes("blob-bin"));
    }

    [Fact]
    public async Task RpcException_ErrorTrailers_CarryCustomMetadata()
    {
        var response = TestClient.Ok([], trailers: [("grpc-status", "7"), ("grpc-message", "denied"), ("x-rule", "r9"), ("detail-bin", "AQ")]);
        using var client = TestClient.Create(new FakeHandler(() => response));

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.DecideAsync(new DecideRequest()));

        Assert.Equal("r9", ex.Trailers.GetValue("x-rule"));
        Assert.Equal(new byte[] { 1 }, ex.Trailers.GetValueBytes("detail-bin"));
    }

    [Fact]
    public async Task RequestHeaders_BinaryValue_RoundTripsThroughBinaryMetadata()
    {
        var handler = new FakeHandler(() => TestClient.Ok(Wire.Frame(new DecideResponse())));
        using var client = TestClient.Create(handler);
        var bytes = new byte[] { 0, 0xFB, 0xFF, 0x10, 0x20 };

        await client.DecideAsync(new DecideRequest(), new CallOptions { Headers = new Metadata { { "x-bin", bytes } } });

        Assert.True(Gatekeeper.Protocol.BinaryMetadata.TryDecode(handler.LastRequest!.Headers["x-bin"], out var decoded));
        Assert.Equal(bytes, decoded);
    }
}
