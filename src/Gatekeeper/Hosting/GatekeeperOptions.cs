namespace Gatekeeper.Hosting;

/// <summary>Settings of the service as a whole, bound from <c>Gatekeeper</c>.</summary>
public sealed class GatekeeperOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper";

    /// <summary>
    /// Set to true for JSON console logs (one object per line, with event id, category and structured state).
    /// Read when the host is built. Defaults to false (the plain console format).
    /// </summary>
    public const string JsonLogsKey = "Gatekeeper:JsonLogs";

    /// <summary>
    /// The policy file or folder to serve and watch. Defaults to the bundled default policy
    /// (<c>policies/</c> next to the binary).
    /// </summary>
    public string? PolicyPath { get; set; }

    /// <summary>
    /// Watch the policy path and swap to a new valid version when its files change. Defaults to true. Where
    /// file events do not arrive (some network shares), a fleet with Redis still hears of new versions from
    /// the instance that loaded them.
    /// </summary>
    public bool WatchPolicy { get; set; } = true;

    /// <summary>Where the audit log (and its subject HMAC key file) lives. Defaults to <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = Audit.AuditOptions.DefaultDataDirectory;

    /// <summary>
    /// Record every answer before it is given. Defaults to true. Only a benchmark comparing the cost of the
    /// log may turn it off; the service then warns at start-up that answers are not recorded.
    /// </summary>
    public bool AuditEnabled { get; set; } = true;

    internal string ResolvedPolicyPath =>
        string.IsNullOrWhiteSpace(PolicyPath) ? Path.Combine(AppContext.BaseDirectory, "policies") : PolicyPath;
}
