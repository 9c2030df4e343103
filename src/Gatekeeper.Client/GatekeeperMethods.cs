namespace Gatekeeper.Client;

/// <summary>The request paths of the methods the client knows, for <see cref="GatekeeperClient.UnaryCallAsync{TRequest, TResponse}"/>.</summary>
public static class GatekeeperMethods
{
    /// <summary>gatekeeper.v1.Gatekeeper/Decide (unary).</summary>
    public const string Decide = "/gatekeeper.v1.Gatekeeper/Decide";

    /// <summary>gatekeeper.v1.Gatekeeper/DecideBatch (unary).</summary>
    public const string DecideBatch = "/gatekeeper.v1.Gatekeeper/DecideBatch";

    /// <summary>grpc.health.v1.Health/Check (unary).</summary>
    public const string HealthCheck = "/grpc.health.v1.Health/Check";

    /// <summary>grpc.health.v1.Health/Watch (server streaming).</summary>
    public const string HealthWatch = "/grpc.health.v1.Health/Watch";
}
