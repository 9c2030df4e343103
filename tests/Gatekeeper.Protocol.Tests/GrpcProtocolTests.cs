using Gatekeeper.Protocol;

namespace Gatekeeper.Protocol.Tests;

public sealed class GrpcProtocolTests
{
    [Theory]
    [InlineData("application/grpc")]
    [InlineData("application/grpc+proto")]
    [InlineData("APPLICATION/GRPC")]
    [InlineData("application/grpc;charset=utf-8")]
    [InlineData("application/grpc+proto;x=y")]
    public void IsGrpcContentType_GrpcProto_ReturnsTrue(string contentType) =>
        Assert.True(GrpcProtocol.IsGrpcContentType(contentType));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("application/grp")]
    [InlineData("application/grpcx")]
    [InlineData("application/grpc+json")]
    [InlineData("application/grpc+protobuf")]
    [InlineData("application/grpc-web")]
    [InlineData("application/grpc-web+proto")]
    [InlineData("text/html")]
    [InlineData("application/json")]
    [InlineData(" application/grpc")]
    public void IsGrpcContentType_Other_ReturnsFalse(string? contentType) =>
        Assert.False(GrpcProtocol.IsGrpcContentType(contentType));
}
