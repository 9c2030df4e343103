using Microsoft.Extensions.Logging;

namespace Gatekeeper.Policy.Internal;

/// <summary>Log events of the policy engine. Event ids and names are a contract with operations.</summary>
internal static partial class PolicyLog
{
    [LoggerMessage(EventId = 1, EventName = "PolicyLoaded", Level = LogLevel.Information, Message = "Policy {Version} loaded from {Path} ({RuleCount} rules)")]
    public static partial void PolicyLoaded(ILogger logger, string version, string path, int ruleCount);

    [LoggerMessage(EventId = 2, EventName = "PolicyRejected", Level = LogLevel.Error, Message = "Policy change at {Path} rejected with {ErrorCount} errors; still serving {Version}")]
    public static partial void PolicyRejected(ILogger logger, string path, int errorCount, string version);

    [LoggerMessage(EventId = 3, EventName = "PolicyError", Level = LogLevel.Error, Message = "{File}:{Line}:{Column}: {Message}")]
    public static partial void PolicyError(ILogger logger, string file, int line, int column, string message);

    [LoggerMessage(EventId = 4, EventName = "PolicyUnchanged", Level = LogLevel.Debug, Message = "Policy at {Path} re-read; version {Version} unchanged")]
    public static partial void PolicyUnchanged(ILogger logger, string path, string version);

    [LoggerMessage(EventId = 5, EventName = "PolicyVersionChanged", Level = LogLevel.Information, Message = "Policy version changed from {OldVersion} to {NewVersion}")]
    public static partial void PolicyVersionChanged(ILogger logger, string oldVersion, string newVersion);

    [LoggerMessage(EventId = 6, EventName = "PolicyStartupFailed", Level = LogLevel.Critical, Message = "Policy at {Path} is invalid ({ErrorCount} errors); the service cannot start without a valid policy")]
    public static partial void PolicyStartupFailed(ILogger logger, string path, int errorCount);

    [LoggerMessage(EventId = 7, EventName = "PolicyWatcherError", Level = LogLevel.Warning, Message = "Policy watcher on {Path} reported an error; re-reading the policy")]
    public static partial void PolicyWatcherError(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 8, EventName = "PolicyVersionHandlerFailed", Level = LogLevel.Error, Message = "A VersionChanged handler failed for policy {Version}")]
    public static partial void PolicyVersionHandlerFailed(ILogger logger, string version, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "PolicyReloadFailed", Level = LogLevel.Error, Message = "Reloading the policy at {Path} failed unexpectedly; still serving {Version}")]
    public static partial void PolicyReloadFailed(ILogger logger, string path, string version, Exception exception);

    public static void Errors(ILogger logger, IReadOnlyList<PolicyError> errors)
    {
        foreach (var e in errors)
        {
            PolicyError(logger, e.File, e.Line, e.Column, e.Message);
        }
    }
}
