using Gatekeeper.Protocol;

namespace Gatekeeper.Protocol.Tests;

public sealed class HttpStatusMappingTests
{
    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(200, StatusCode.Unknown)]
    [InlineData(415, StatusCode.Unknown)]
    [InlineData(500, StatusCode.Unknown)]
    [InlineData(0, StatusCode.Unknown)]
    [InlineData(-1, StatusCode.Unknown)]
    public void FromHttpStatus_Code_MapsPerSpec(int httpStatus, StatusCode expected) =>
        Assert.Equal(expected, HttpStatusMapping.FromHttpStatus(httpStatus));
}
