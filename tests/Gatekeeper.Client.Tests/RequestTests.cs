using System.Diagnostics;
using System.Net;
using Gatekeeper.Client.Tests.Infrastructure;
using Gatekeeper.V1;
using Grpc.Health.V1;

namespace Gatekeeper.Client.Tests;

public sealed class RequestTests
{
    private static readonly DecideRequest Request = new()
    {
        Category = "health",
        Recipient = "gp_practice",
        Purpose = "direct_care",
        RequestId = "r-1",
        Context = new DecisionContext { Form = DataForm.Identifiable, SubjectIsMinor = false },
    };

    private static FakeHandler OkHandler() => new(() => TestClient.Ok(Wire.Frame(new DecideResponse { Decision = Decision.Allow })));

    [Fact]
    public async Task DecideAsync_AnyCall_SendsHttp2PostToMethodPath()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);

        await client.DecideAsync(Request);

        var sent = handler.LastRequest!;
        Assert.Equal(HttpMethod.Post, sent.Method);
        Assert.Equal(new Uri("http://gatekeeper.test:5000/gatekeeper.v1.Gatekeeper/Decide"), sent.Uri);
        Assert.Equal(HttpVersion.Version20, sent.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, sent.VersionPolicy);
    }

    [Fact]
    public async Task DecideAsync_AnyCall_SendsGrpcHeaders()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);

        await client.DecideAsync(Request);

        var headers = handler.LastRequest!.Headers;
        Assert.Equal("application/grpc", headers["content-type"]);
        Assert.Equal("trailers", headers["te"]);
        Assert.Equal("identity,gzip", headers["grpc-accept-encoding"]);
        Assert.StartsWith("gatekeeper-dotnet/", headers["user-agent"], StringComparison.Ordinal);
        Assert.DoesNotContain('+', headers["user-agent"]);
        Assert.False(headers.ContainsKey("grpc-timeout"));
        Assert.False(headers.ContainsKey("grpc-encoding"));
        Assert.False(headers.ContainsKey("content-length"));
    }

    [Fact]
    public async Task DecideAsync_AnyCall_BodyIsExactlyOneLengthPrefixedMessage()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);

        await client.DecideAsync(Request);

        var payload = Google.Protobuf.MessageExtensions.ToByteArray(Request);
        var expected = Wire.Concat([0, 0, 0, (byte)(payload.Length >> 8), (byte)payload.Length], payload);
        Assert.Equal(expected, handler.LastRequest!.Body);
    }

    [Fact]
    public async Task DecideAsync_EmptyMessage_BodyIsPrefixOnly()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);

        await client.DecideAsync(new DecideRequest());

        Assert.Equal(new byte[] { 0, 0, 0, 0, 0 }, handler.LastRequest!.Body);
    }

    [Fact]
    public async Task DecideAsync_LargeMessage_IsFramedWhole()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);
        var large = new DecideRequest { SubjectRef = new string('x', 300_000) };

        await client.DecideAsync(large);

        Assert.Equal(Wire.Frame(large), handler.LastRequest!.Body);
    }

    [Fact]
    public async Task CompressRequests_AnyCall_SendsGzipFrameWithEncodingHeader()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler, o => o.CompressRequests = true);

        await client.DecideAsync(Request);

        var sent = handler.LastRequest!;
        Assert.Equal("gzip", sent.Headers["grpc-encoding"]);
        Assert.Equal(1, sent.Body[0]);
        var length = (sent.Body[1] << 24) | (sent.Body[2] << 16) | (sent.Body[3] << 8) | sent.Body[4];
        Assert.Equal(sent.Body.Length - 5, length);
        Assert.Equal(Google.Protobuf.MessageExtensions.ToByteArray(Request), Wire.Gunzip(sent.Body[5..]));
    }

    [Fact]
    public async Task CheckHealthAsync_Service_SendsHealthCheckRequest()
    {
        var handler = new FakeHandler(() => TestClient.Ok(Wire.Frame(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving })));
        using var client = TestClient.Create(handler);

        var response = await client.CheckHealthAsync("gatekeeper.v1.Gatekeeper");

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
        Assert.Equal("/grpc.health.v1.Health/Check", handler.LastRequest!.Uri.AbsolutePath);
        Assert.Equal(Wire.Frame(new HealthCheckRequest { Service = "gatekeeper.v1.Gatekeeper" }), handler.LastRequest.Body);
    }

    [Fact]
    public async Task DecideBatchAsync_AnyCall_UsesBatchPath()
    {
        var batch = new DecideBatchResponse { Responses = { new DecideResponse { Decision = Decision.Deny } } };
        var handler = new FakeHandler(() => TestClient.Ok(Wire.Frame(batch)));
        using var client = TestClient.Create(handler);

        var response = await client.DecideBatchAsync(new DecideBatchRequest { Requests = { Request, Request } });

        Assert.Equal(batch, response);
        Assert.Equal("/gatekeeper.v1.Gatekeeper/DecideBatch", handler.LastRequest!.Uri.AbsolutePath);
    }

    [Fact]
    public async Task UnaryCallAsync_AnyPath_IsSentAsGiven()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);

        await client.UnaryCallAsync("/other.v1.Service/Method", Request, DecideResponse.Parser);

        Assert.Equal("/other.v1.Service/Method", handler.LastRequest!.Uri.AbsolutePath);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Decide")]
    [InlineData("/Decide")]
    [InlineData("gatekeeper.v1.Gatekeeper/Decide")]
    public async Task UnaryCallAsync_MalformedPath_ThrowsArgumentException(string path)
    {
        using var client = TestClient.Create(OkHandler());

        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.UnaryCallAsync(path, Request, DecideResponse.Parser));
    }

    [Fact]
    public async Task DecideAsync_CustomMetadata_SendsTextAndBase64Headers()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);
        var headers = new Metadata { { "X-Tenant", "council-42" }, { "token-bin", new byte[] { 0xFF, 0x00, 0x01 } } };

        await client.DecideAsync(Request, new CallOptions { Headers = headers });

        Assert.Equal("council-42", handler.LastRequest!.Headers["x-tenant"]);
        Assert.Equal("/wAB", handler.LastRequest.Headers["token-bin"]);
    }

    [Fact]
    public async Task DecideAsync_CurrentActivity_SendsTraceContext()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);
        using var activity = new Activity("test").SetIdFormat(ActivityIdFormat.W3C).Start();
        activity.TraceStateString = "vendor=1";

        await client.DecideAsync(Request);

        Assert.Equal(activity.Id, handler.LastRequest!.Headers["traceparent"]);
        Assert.Equal("vendor=1", handler.LastRequest.Headers["tracestate"]);
    }

    [Fact]
    public async Task DecideAsync_NoActivity_SendsNoTraceContext()
    {
        var handler = OkHandler();
        using var client = TestClient.Create(handler);
        Activity.Current = null;

        await client.DecideAsync(Request);

        Assert.False(handler.LastRequest!.Headers.ContainsKey("traceparent"));
    }
}
