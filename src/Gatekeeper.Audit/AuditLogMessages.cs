using Microsoft.Extensions.Logging;

namespace Gatekeeper.Audit;

/// <summary>Every log line of the audit store. Event ids and names are a contract for alerting; do not renumber.</summary>
internal static partial class AuditLogMessages
{
    [LoggerMessage(EventId = 5001, EventName = "AuditLogOpened", Level = LogLevel.Information,
        Message = "Audit log opened at {DatabasePath}; chain head at sequence {HeadSequence}.")]
    public static partial void Opened(ILogger logger, string databasePath, long headSequence);

    // The head hash goes to the service log (shipped off the machine) on purpose: it anchors the chain outside
    // the database, so even a rewrite of the whole table after this point is detectable.
    [LoggerMessage(EventId = 5002, EventName = "AuditCheckpoint", Level = LogLevel.Information,
        Message = "Audit checkpoint: sequence {Sequence}, head hash {HeadHash}.")]
    public static partial void Checkpoint(ILogger logger, long sequence, string headHash);

    [LoggerMessage(EventId = 5003, EventName = "AuditBatchFailed", Level = LogLevel.Error,
        Message = "Audit batch of {RecordCount} records failed to commit; its callers get UNAVAILABLE. Retrying in {RetryDelayMs} ms.")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int recordCount, long retryDelayMs);

    [LoggerMessage(EventId = 5004, EventName = "AuditStoreRecovered", Level = LogLevel.Warning,
        Message = "Audit store recovered after {FailedBatches} failed batches; chain head at sequence {HeadSequence}.")]
    public static partial void Recovered(ILogger logger, long failedBatches, long headSequence);

    [LoggerMessage(EventId = 5005, EventName = "AuditQueueFull", Level = LogLevel.Debug,
        Message = "Audit queue full ({Capacity} waiting); the append was refused.")]
    public static partial void QueueFull(ILogger logger, int capacity);

    [LoggerMessage(EventId = 5006, EventName = "AuditKeyGenerated", Level = LogLevel.Warning,
        Message = "Generated a new audit HMAC key at {KeyPath} (mode 0600). Back it up: without it subjects cannot be searched and checkpoints cannot be verified.")]
    public static partial void KeyGenerated(ILogger logger, string keyPath);

    [LoggerMessage(EventId = 5007, EventName = "AuditKeyFileTooOpen", Level = LogLevel.Warning,
        Message = "The audit key file {KeyPath} has mode {Mode}; it should be readable by its owner only (0600).")]
    public static partial void KeyFileTooOpen(ILogger logger, string keyPath, string mode);

    [LoggerMessage(EventId = 5008, EventName = "AuditPurged", Level = LogLevel.Information,
        Message = "Audit purge: deleted {DeletedCount} records up to sequence {CutSequence}; signed cut checkpoint written.")]
    public static partial void Purged(ILogger logger, long deletedCount, long cutSequence);

    [LoggerMessage(EventId = 5009, EventName = "AuditLogStopped", Level = LogLevel.Information,
        Message = "Audit log stopped; chain head at sequence {HeadSequence}.")]
    public static partial void Stopped(ILogger logger, long headSequence);

    [LoggerMessage(EventId = 5010, EventName = "AuditWriterCrashed", Level = LogLevel.Critical,
        Message = "The audit writer stopped unexpectedly; every append now fails with UNAVAILABLE.")]
    public static partial void WriterCrashed(ILogger logger, Exception exception);
}
