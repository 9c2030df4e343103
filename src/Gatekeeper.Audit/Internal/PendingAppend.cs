namespace Gatekeeper.Audit.Internal;

/// <summary>One AppendAsync / AppendManyAsync call waiting for its batch: all its records commit together or not at all.</summary>
internal sealed class PendingAppend(PreparedRecord[] records)
{
    public PreparedRecord[] Records { get; } = records;

    // RunContinuationsAsynchronously: the writer must not run callers' continuations (gRPC response writing)
    // on its own thread between commits.
    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
