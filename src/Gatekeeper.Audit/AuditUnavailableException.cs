namespace Gatekeeper.Audit;

/// <summary>Why the log could not take a record.</summary>
public enum AuditUnavailableReason
{
    /// <summary>The bounded queue is full: the store cannot keep up. Retrying later may work.</summary>
    QueueFull,

    /// <summary>The batch holding the record failed to commit (disk full, I/O error, read-only store).</summary>
    StoreFailing,

    /// <summary>The log is being disposed.</summary>
    ShuttingDown,
}

/// <summary>
/// The record was NOT acknowledged as durable, so the caller must not receive the decision: the service maps
/// this to gRPC UNAVAILABLE. A record whose append threw may still be in the log (e.g. when an fsync failed
/// after the write); it is never the other way round.
/// </summary>
public sealed class AuditUnavailableException : Exception
{
    public AuditUnavailableException()
        : this("The audit log is unavailable.")
    {
    }

    public AuditUnavailableException(string message)
        : this(message, AuditUnavailableReason.StoreFailing, null)
    {
    }

    public AuditUnavailableException(string message, Exception? innerException)
        : this(message, AuditUnavailableReason.StoreFailing, innerException)
    {
    }

    public AuditUnavailableException(string message, AuditUnavailableReason reason, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public AuditUnavailableReason Reason { get; }
}
