namespace Gatekeeper.Client;

/// <summary>Per-call settings. Everything is optional; an instance may be shared by many calls.</summary>
public sealed class CallOptions
{
    /// <summary>
    /// How long the call may take, measured from when it starts. Sent as grpc-timeout and enforced locally: when it
    /// passes, the call is cancelled and fails with DeadlineExceeded. <see cref="Timeout.InfiniteTimeSpan"/> means
    /// no deadline. Overrides <see cref="GatekeeperClientOptions.DefaultDeadline"/>.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// The absolute time by which the call must complete (UTC, or local time that is converted).
    /// When both this and <see cref="Timeout"/> are set, the earlier wins. <see cref="DateTime.MaxValue"/> means no deadline.
    /// </summary>
    public DateTime? Deadline { get; init; }

    /// <summary>Custom request headers (text, or bytes under "-bin" keys).</summary>
    public Metadata? Headers { get; init; }
}
