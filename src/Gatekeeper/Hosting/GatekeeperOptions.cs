namespace Gatekeeper.Hosting;

/// <summary>Settings of the service as a whole, bound from <c>Gatekeeper</c>.</summary>
public sealed class GatekeeperOptions
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Gatekeeper";

    /// <summary>
    /// The policy file or folder to serve and watch. Defaults to the bundled default policy
    /// (<c>policies/</c> next to the binary).
    /// </summary>
    public string? PolicyPath { get; set; }

    internal string ResolvedPolicyPath =>
        string.IsNullOrWhiteSpace(PolicyPath) ? Path.Combine(AppContext.BaseDirectory, "policies") : PolicyPath;
}
