namespace Gatekeeper.Policy.Internal;

/// <summary>One entry of the <c>callers</c> section, before its ids are resolved.</summary>
internal sealed class RawCaller
{
    public RawCaller(string identity, Loc loc)
    {
        Identity = identity;
        Loc = loc;
    }

    public string Identity { get; }

    public Loc Loc { get; }

    public RawSelector? Categories { get; set; }

    public RawSelector? Purposes { get; set; }

    public List<IdRef> Admin { get; } = [];

    public CallerRateLimit? RateLimit { get; set; }
}
