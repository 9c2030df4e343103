namespace Gatekeeper.Audit;

/// <summary>State of the audit store as last observed by the writer.</summary>
public enum AuditHealth
{
    /// <summary>The last batch committed (or nothing has failed since start).</summary>
    Healthy,

    /// <summary>The last batch failed; appends are being answered with <see cref="AuditUnavailableException"/>
    /// until a retry commits.</summary>
    Failing,
}
