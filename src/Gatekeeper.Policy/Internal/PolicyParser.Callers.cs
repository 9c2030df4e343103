namespace Gatekeeper.Policy.Internal;

/// <summary>The <c>callers</c> section: caller identity → categories, purposes and admin rights.</summary>
internal sealed partial class PolicyParser
{
    private const int MaxCallerLength = 256;
    private static readonly string[] CallerKeys = ["description", "categories", "purposes", "admin"];

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
