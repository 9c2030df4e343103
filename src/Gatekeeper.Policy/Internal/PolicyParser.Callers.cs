namespace Gatekeeper.Policy.Internal;

/// <summary>The <c>callers</c> section: caller identity → categories, purposes and admin rights.</summary>
internal sealed partial class PolicyParser
{
    private const int MaxCallerLength = 256;
    private static readonly string[] RateLimitKeys = ["per_second", "burst"];
    private static readonly string[] CallerKeys = ["description", "categories", "purposes", "admin", "rate_limit"];

    private void ParseCallers(YNode node)
    {
        if (ExpectMapping(node, "'callers'") is not { } map)
        {
            return;
        }

        _policy.CallersDeclared = true;
        foreach (var (key, value) in map.Entries)
        {
            if (!IsValidCallerIdentity(key.Value))
            {
                Error(key, $"'{Truncate(key.Value)}' is not a caller identity: write the certificate's SAN URI (spiffe://...), SAN DNS name or subject common name, or anonymous-loopback; 1-{MaxCallerLength} printable ASCII characters without leading or trailing spaces");
                continue;
            }

            var caller = new RawCaller(key.Value, At(key));
            _policy.Callers.Add(caller);
            if (value is YScalar { IsNull: true })
            {
                // "some-caller:" alone lists a caller that may ask nothing: documents it, and denials name it.
                continue;
            }

            if (ExpectMapping(value, $"caller '{Truncate(key.Value)}'") is not { } props)
            {
                continue;
            }

            foreach (var (pk, pv) in props.Entries)
            {
                switch (pk.Value)
                {
                    case "description":
                        ExpectString(pv, "'description'");
                        break;
                    case "categories":
                        caller.Categories = ParseSelector(pv, "category");
                        break;
                    case "purposes":
                        caller.Purposes = ParseSelector(pv, "purpose");
                        break;
                    case "admin":
                        ParseAdmin(caller, pv);
                        break;
                    case "rate_limit":
                        caller.RateLimit = ParseRateLimit(pv);
                        break;
                    default:
                        UnknownKey(pk, $"in caller '{Truncate(key.Value)}'", CallerKeys);
                        break;
                }
            }

            if ((caller.Categories is null) != (caller.Purposes is null))
            {
                Error(value, $"caller '{Truncate(key.Value)}' names {(caller.Categories is null ? "purposes but no categories" : "categories but no purposes")}; give both (either may be '*'), or neither for a caller that may not call Decide");
            }
        }
    }

    private void ParseAdmin(RawCaller caller, YNode node)
    {
        if (node is YScalar { Value: "*" } star)
        {
            caller.Admin.Add(new IdRef(CallerPolicy.QueryAudit, At(star)));
            caller.Admin.Add(new IdRef(CallerPolicy.ReloadPolicy, At(star)));
            return;
        }

        caller.Admin.AddRange(ExpectIdList(node, "admin right"));
    }

    /// <summary>"unlimited" or { per_second: N, burst: M } (burst defaults to twice per_second).</summary>
    private CallerRateLimit? ParseRateLimit(YNode node)
    {
        if (node is YScalar { Value: "unlimited" })
        {
            return CallerRateLimit.Unlimited;
        }

        if (node is not YMapping map)
        {
            Error(node, "'rate_limit' must be unlimited or { per_second: N, burst: M }");
            return null;
        }

        double? perSecond = null;
        int? burst = null;
        foreach (var (key, value) in map.Entries)
        {
            switch (key.Value)
            {
                case "per_second":
                    if (value is YScalar { IsPlain: true } ps && double.TryParse(ps.Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var rate) && rate > 0 && rate <= 1e9)
                    {
                        perSecond = rate;
                    }
                    else
                    {
                        Error(value, "'per_second' must be a number of calls per second above 0 (e.g. 500 or 0.5)");
                    }

                    break;
                case "burst":
                    if (value is YScalar { IsPlain: true } b && int.TryParse(b.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) && size >= 1)
                    {
                        burst = size;
                    }
                    else
                    {
                        Error(value, "'burst' must be a whole number of calls, at least 1");
                    }

                    break;
                default:
                    UnknownKey(key, "in 'rate_limit'", RateLimitKeys);
                    break;
            }
        }

        if (perSecond is null)
        {
            Error(node, "'rate_limit' needs 'per_second' (or write rate_limit: unlimited)");
            return null;
        }

        return new CallerRateLimit(perSecond.Value, burst ?? (int)Math.Clamp(Math.Ceiling(perSecond.Value * 2), 1, int.MaxValue));
    }

    internal static bool IsValidCallerIdentity(string value)
    {
        if (value.Length is 0 or > MaxCallerLength || value[0] == ' ' || value[^1] == ' ')
        {
            return false;
        }

        foreach (char c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
