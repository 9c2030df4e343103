using System.Collections.Frozen;

namespace Gatekeeper.Policy.Internal;

/// <summary>Resolves the <c>callers</c> section against the policy's own vocabulary.</summary>
internal sealed partial class PolicyCompiler
{
    private static readonly string[] AdminRights = [CallerPolicy.QueryAudit, CallerPolicy.ReloadPolicy];

    private CallerPolicy CompileCallers()
    {
        if (!_raw.CallersDeclared)
        {
            return CallerPolicy.LoopbackOnly;
        }

        var callers = new Dictionary<string, CallerEntitlement>(StringComparer.Ordinal);
        var first = new Dictionary<string, Loc>(StringComparer.Ordinal);
        foreach (var raw in _raw.Callers)
        {
            if (!first.TryAdd(raw.Identity, raw.Loc))
            {
                Error(raw.Loc, $"caller '{raw.Identity}' is listed twice (first at {first[raw.Identity]}); give each caller one entry");
                continue;
            }

            var categories = raw.Categories is null ? FrozenSet<string>.Empty : CallerSelect(raw, raw.Categories, _categories, "category", "categories");
            var purposes = raw.Purposes is null ? FrozenSet<string>.Empty : CallerSelect(raw, raw.Purposes, _purposes, "purpose", "purposes");
            bool query = false, reload = false;
            foreach (var right in raw.Admin)
            {
                switch (right.Id)
                {
                    case CallerPolicy.QueryAudit:
                        query = true;
                        break;
                    case CallerPolicy.ReloadPolicy:
                        reload = true;
                        break;
                    default:
                        Error(right.Loc, $"caller '{raw.Identity}': unknown admin right '{right.Id}'{PolicyParser.Suggest(right.Id, AdminRights)}; use query_audit, reload_policy, or '*' for both");
                        break;
                }
            }

            callers[raw.Identity] = new CallerEntitlement(raw.Identity, categories, purposes, query, reload, raw.RateLimit);
        }

        return new CallerPolicy(callers.ToFrozenDictionary(StringComparer.Ordinal), declared: true);
    }

    /// <summary>null (every id, known or not) for '*'; otherwise the set of ids the selector names in this policy.</summary>
    private FrozenSet<string>? CallerSelect(RawCaller caller, RawSelector selector, Dictionary<string, int> vocabulary, string kind, string section)
    {
        if (selector.All && selector.Except.Count == 0)
        {
            return null;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        if (selector.All)
        {
            ids.UnionWith(vocabulary.Keys);
        }

        foreach (var id in selector.Ids)
        {
            if (CallerResolve(caller, id, vocabulary, kind, section))
            {
                ids.Add(id.Id);
            }
        }

        foreach (var id in selector.Except)
        {
            if (CallerResolve(caller, id, vocabulary, kind, section))
            {
                ids.Remove(id.Id);
            }
        }

        return ids.ToFrozenSet(StringComparer.Ordinal);
    }

    private bool CallerResolve(RawCaller caller, IdRef id, Dictionary<string, int> vocabulary, string kind, string section)
    {
        if (vocabulary.ContainsKey(id.Id))
        {
            return true;
        }

        Error(id.Loc, $"caller '{caller.Identity}': unknown {kind} '{id.Id}'{PolicyParser.Suggest(id.Id, vocabulary.Keys)}; correct it or define it under '{section}:'");
        return false;
    }
}
