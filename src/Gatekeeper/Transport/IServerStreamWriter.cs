namespace Gatekeeper.Transport;

/// <summary>Writes the messages of a server-streaming call, one at a time.</summary>
public interface IServerStreamWriter<in T>
{
    /// <summary>Writes and flushes one message. Do not call it concurrently.</summary>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}
