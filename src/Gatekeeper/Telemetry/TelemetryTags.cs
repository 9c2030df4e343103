namespace Gatekeeper.Telemetry;

/// <summary>
/// Attribute names of spans and metrics: OpenTelemetry semantic conventions where one exists, <c>gatekeeper.*</c>
/// otherwise. Ops dashboards depend on them. There is deliberately no name here for the subject reference or the
/// caller's request id: the first is personal data, the second is free text a caller may fill with a case number.
/// </summary>
internal static class TelemetryTags
{
    public const string RpcSystem = "rpc.system";
    public const string RpcService = "rpc.service";
    public const string RpcMethod = "rpc.method";
    public const string RpcGrpcStatusCode = "rpc.grpc.status_code";
    public const string ErrorType = "error.type";
    public const string DbSystemName = "db.system.name";
    public const string DbOperationName = "db.operation.name";

    public const string Decision = "gatekeeper.decision";
    public const string DecisionId = "gatekeeper.decision_id";
    public const string Category = "gatekeeper.category";
    public const string Recipient = "gatekeeper.recipient";
    public const string Purpose = "gatekeeper.purpose";
    public const string RuleId = "gatekeeper.rule_id";
    public const string PolicyVersion = "gatekeeper.policy_version";
    public const string Cache = "gatekeeper.cache";
    public const string CacheHit = "gatekeeper.cache.hit";
    public const string BatchSize = "gatekeeper.batch.size";
    public const string AuditRecords = "gatekeeper.audit.records";

    public const string Grpc = "grpc";
    public const string Redis = "redis";
}
