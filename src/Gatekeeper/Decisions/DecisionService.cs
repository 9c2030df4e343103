using Gatekeeper.Security;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.Decisions;

/// <summary>
/// The gatekeeper.v1.Gatekeeper gRPC service. Thin: validate, check the caller may ask this (else an audited
/// PERMISSION_DENIED), hand the request to the decision pipeline, return its answer. Everything else (cache,
/// policy, audit) happens in <see cref="DecisionPipeline"/>.
/// </summary>
public sealed class DecisionService(DecisionPipeline pipeline, CallerAuthorizer authorizer)
{
    /// <summary>The service name on the wire.</summary>
    public const string ServiceName = "gatekeeper.v1.Gatekeeper";

    /// <summary>The methods to register with the gRPC endpoint.</summary>
    public IEnumerable<ServerMethod> Methods()
    {
        yield return ServerMethod.Unary<DecideRequest, DecideResponse>(ServiceName, "Decide", DecideRequest.Parser, Decide);
        yield return ServerMethod.Unary<DecideBatchRequest, DecideBatchResponse>(ServiceName, "DecideBatch", DecideBatchRequest.Parser, DecideBatch);
    }

    /// <summary>One question, one answer.</summary>
    public ValueTask<DecideResponse> Decide(DecideRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RequestValidator.Validate(request);
        var caller = context.Caller;
        return authorizer.MayDecide(caller, request)
            ? pipeline.DecideAsync(request, caller, context.CancellationToken)
            : authorizer.RefuseAsync<DecideResponse>(caller, [request], context);
    }

    /// <summary>Up to 100 questions, answered in the same order.</summary>
    public ValueTask<DecideBatchResponse> DecideBatch(DecideBatchRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RequestValidator.Validate(request);
        var caller = context.Caller;
        return authorizer.MayDecide(caller, request)
            ? pipeline.DecideBatchAsync(request, caller, context.CancellationToken)
            : authorizer.RefuseAsync<DecideBatchResponse>(caller, request.Requests, context);
    }
}
