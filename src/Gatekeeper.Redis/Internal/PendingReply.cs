using System.Buffers;

namespace Gatekeeper.Redis.Internal;

/// <summary>Encodes one command's arguments; a static lambda plus a struct state, so that sending allocates no closure.</summary>
internal delegate void RespCommandWriter<TState>(IBufferWriter<byte> writer, in TState state);

/// <summary>
/// A command that has been written and waits for its reply. Replies arrive in the order commands were
/// written, so these wait in a FIFO queue. Continuations run asynchronously so that a caller can never
/// stall the connection's read loop.
/// </summary>
internal sealed class PendingReply : TaskCompletionSource<RespValue>
{
    public PendingReply(string command, long startTimestamp)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Command = command;
        StartTimestamp = startTimestamp;
    }

    /// <summary>The command name, for timeout messages.</summary>
    public string Command { get; }

    /// <summary>When the command was queued (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long StartTimestamp { get; }
}

/// <summary>Which role a physical connection plays; a subscribed connection accepts only (UN)SUBSCRIBE and receives pushes.</summary>
internal enum ConnectionKind
{
    Interactive,
    Subscriber,
}
