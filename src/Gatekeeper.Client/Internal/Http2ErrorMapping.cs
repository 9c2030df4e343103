using Gatekeeper.Protocol;

namespace Gatekeeper.Client.Internal;

/// <summary>The status of a call whose stream was reset, by HTTP/2 error code (grpc/grpc doc/PROTOCOL-HTTP2.md).</summary>
internal static class Http2ErrorMapping
{
    public static StatusCode ToStatusCode(long errorCode) => errorCode switch
    {
        0x7 => StatusCode.Unavailable, // REFUSED_STREAM: not processed, safe to retry
        0x8 => StatusCode.Cancelled, // CANCEL
        0xB => StatusCode.ResourceExhausted, // ENHANCE_YOUR_CALM
        0xC => StatusCode.PermissionDenied, // INADEQUATE_SECURITY
        _ => StatusCode.Internal, // NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, ...
    };
}
