using System.Collections.Frozen;

namespace Gatekeeper.Policy;

/// <summary>
/// Who may ask the gatekeeper what: the compiled <c>callers</c> section of a policy. A caller is named by the
/// identity the service derives from its connection (client certificate SAN URI, else SAN DNS name, else
/// subject common name; <see cref="AnonymousLoopback"/> for plain text on loopback). Callers the policy does
/// not list may ask nothing. Immutable and shared by every request of one policy version.
/// </summary>
public sealed class CallerPolicy
{
    /// <summary>The identity of a caller without a client certificate on a loopback connection (local development).</summary>
    public const string AnonymousLoopback = "anonymous-loopback";

    /// <summary>The identity of a caller without a client certificate on any other connection.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>Admin right: <c>gatekeeper.v1.Admin/QueryAudit</c>.</summary>
    public const string QueryAudit = "query_audit";

    /// <summary>Admin right: <c>gatekeeper.v1.Admin/ReloadPolicy</c>.</summary>
    public const string ReloadPolicy = "reload_policy";

    private readonly FrozenDictionary<string, CallerEntitlement> _callers;

    internal CallerPolicy(FrozenDictionary<string, CallerEntitlement> callers, bool declared)
    {
        _callers = callers;
        Declared = declared;
    }

    /// <summary>
    /// What a policy without a <c>callers</c> section allows: <see cref="AnonymousLoopback"/> everything, nobody
    /// else anything. Local development works out of the box and a network deployment that forgets the section
    /// refuses every certificate rather than trusting all of them.
    /// </summary>
    public static CallerPolicy LoopbackOnly { get; } = new(
        new Dictionary<string, CallerEntitlement>(StringComparer.Ordinal)
        {
            [AnonymousLoopback] = new CallerEntitlement(AnonymousLoopback, null, null, mayQueryAudit: true, mayReloadPolicy: true, CallerRateLimit.Unlimited),
        }.ToFrozenDictionary(StringComparer.Ordinal),
        declared: false);

    /// <summary>True for a name the <c>callers</c> section can list: 1-256 printable ASCII characters, no leading or trailing space.</summary>
    public static bool IsValidIdentity(string? identity) => identity is not null && Internal.PolicyParser.IsValidCallerIdentity(identity);

    /// <summary>True when the policy has a <c>callers</c> section; false for <see cref="LoopbackOnly"/>.</summary>
    public bool Declared { get; }

    /// <summary>The caller identities listed.</summary>
    public IReadOnlyCollection<string> Callers => _callers.Keys;

    /// <summary>The entitlement of a caller; false for a caller the policy does not list.</summary>
    public bool TryGet(string caller, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out CallerEntitlement entitlement)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return _callers.TryGetValue(caller, out entitlement);
    }
}

/// <summary>What one caller may ask: categories and purposes of Decide questions, and admin rights.</summary>
public sealed class CallerEntitlement
{
    // null = every id, including ids the policy does not define (those are answered with unknown_* denials);
    // otherwise exactly the listed (or all-except-expanded) ids of this policy version.
    private readonly FrozenSet<string>? _categories;
    private readonly FrozenSet<string>? _purposes;

    internal CallerEntitlement(string caller, FrozenSet<string>? categories, FrozenSet<string>? purposes, bool mayQueryAudit, bool mayReloadPolicy, CallerRateLimit? rateLimit = null)
    {
        Caller = caller;
        RateLimit = rateLimit;
        _categories = categories;
        _purposes = purposes;
        MayQueryAudit = mayQueryAudit;
        MayReloadPolicy = mayReloadPolicy;
    }

    /// <summary>The caller identity this entitlement belongs to.</summary>
    public string Caller { get; }

    /// <summary>May call <c>gatekeeper.v1.Admin/QueryAudit</c>.</summary>
    public bool MayQueryAudit { get; }

    /// <summary>May call <c>gatekeeper.v1.Admin/ReloadPolicy</c>.</summary>
    public bool MayReloadPolicy { get; }

    /// <summary>The caller's own rate limit; null means the service's configured default.</summary>
    public CallerRateLimit? RateLimit { get; }

    /// <summary>May ask about this category for this purpose. Allocates nothing.</summary>
    public bool MayAsk(string category, string purpose) =>
        (_categories is null || _categories.Contains(category)) && (_purposes is null || _purposes.Contains(purpose));
}

/// <summary>A caller's token bucket: sustained calls per second and burst size; <see cref="Unlimited"/> for none.</summary>
public sealed record CallerRateLimit(double PerSecond, int Burst)
{
    /// <summary>No limit (e.g. local load tests over loopback).</summary>
    public static CallerRateLimit Unlimited { get; } = new(double.PositiveInfinity, int.MaxValue);

    /// <summary>True for <see cref="Unlimited"/>.</summary>
    public bool IsUnlimited => double.IsPositiveInfinity(PerSecond);
}
