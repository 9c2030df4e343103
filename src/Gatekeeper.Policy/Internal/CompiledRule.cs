using System.Numerics;
using System.Text;

namespace Gatekeeper.Policy.Internal;

/// <summary>A rule reduced to bitmasks; everything string-shaped was resolved when compiling.</summary>
internal sealed class CompiledRule
{
    public CompiledRule(string id, int order, bool isDeny, Loc loc)
    {
        Id = id;
        Order = order;
        IsDeny = isDeny;
        Loc = loc;
    }

    public string Id { get; }

    /// <summary>Position in the policy (file order, then order in the file): earlier allows win.</summary>
    public int Order { get; }

    public bool IsDeny { get; }

    public Loc Loc { get; }

    public ulong ContextMask { get; set; } = ContextBits.All;

    /// <summary>At least one of these statuses, or 0 for no constraint.</summary>
    public ulong StatusAny { get; set; }

    /// <summary>None of these statuses.</summary>
    public ulong StatusNone { get; set; }

    /// <summary>Specific foreign countries (policy country indexes) accepted, or null.</summary>
    public ulong[]? Countries { get; set; }

    public ulong[] Categories { get; set; } = [];

    public ulong[] Recipients { get; set; } = [];

    public ulong[] Purposes { get; set; } = [];

    public PolicyOutcome Outcome { get; set; } = null!;

    public bool Matches(ulong context, ulong statuses, int country)
    {
        ulong hit = ContextMask & context;
        if (BitOperations.PopCount(hit) != ContextBits.GroupCount)
        {
            // The only way to match with a group missing: the destination group, abroad, and the
            // rule lists this country.
            if (Countries is null
                || country < 0
                || BitOperations.PopCount(hit) != ContextBits.GroupCount - 1
                || (hit & ContextBits.DestinationMask) != 0
                || !Bits.Has(Countries, country))
            {
                return false;
            }
        }

        if (StatusAny != 0 && (statuses & StatusAny) == 0)
        {
            return false;
        }

        return (statuses & StatusNone) == 0;
    }

    /// <summary>True when every request this rule matches, <paramref name="other"/> also matches.</summary>
    public bool IsCoveredBy(CompiledRule other)
    {
        if (!Bits.IsSubset(Categories, other.Categories) || !Bits.IsSubset(Recipients, other.Recipients) || !Bits.IsSubset(Purposes, other.Purposes))
        {
            return false;
        }

        if ((ContextMask & ~other.ContextMask) != 0)
        {
            return false;
        }

        if (Countries is not null && (other.ContextMask & ContextBits.DestinationAbroad) == 0
            && (other.Countries is null || !Bits.IsSubset(Countries, other.Countries)))
        {
            return false;
        }

        // Statuses: every status set that passes this rule must pass the other (see the README).
        if ((other.StatusNone & ~StatusNone) != 0)
        {
            return false;
        }

        if (other.StatusAny != 0)
        {
            return StatusAny != 0 && ((StatusAny & ~StatusNone) & ~other.StatusAny) == 0;
        }

        return true;
    }

    /// <summary>Why this rule does not match, for explanations; empty when it matches.</summary>
    public string Mismatch(ulong context, ulong statuses, int country, string[] statusNames, string[] countryNames)
    {
        var why = new StringBuilder();
        CheckGroup(why, context, ContextBits.FormMask, ContextBits.FormShift, ContextBits.FormNames, "form");
        CheckGroup(why, context, ContextBits.ConsentMask, ContextBits.ConsentShift, ContextBits.ConsentNames, "consent");
        CheckGroup(why, context, ContextBits.RequestMask, 7, ["false", "true"], "subject_request");
        CheckGroup(why, context, ContextBits.MinorMask, 9, ContextBits.MinorNames, "subject_is_minor");
        if ((ContextMask & context & ContextBits.DestinationMask) == 0
            && !(Countries is not null && country >= 0 && Bits.Has(Countries, country)))
        {
            Append(why, $"destination is {((context & ContextBits.DestinationUk) != 0 ? "uk" : "abroad")}, rule needs {DestinationText(countryNames)}");
        }

        if (StatusAny != 0 && (statuses & StatusAny) == 0)
        {
            Append(why, $"subject_statuses has none of [{Names(StatusAny, statusNames)}]");
        }

        if ((statuses & StatusNone) != 0)
        {
            Append(why, $"subject_statuses has {Names(statuses & StatusNone, statusNames)}, rule excludes [{Names(StatusNone, statusNames)}]");
        }

        return why.ToString();
    }

    private void CheckGroup(StringBuilder why, ulong context, ulong mask, int shift, string[] names, string label)
    {
        if ((ContextMask & context & mask) == 0)
        {
            Append(why, $"{label} is {Names((context & mask) >> shift, names)}, rule needs [{Names((ContextMask & mask) >> shift, names)}]");
        }
    }

    public string DestinationText(string[] countryNames)
    {
        var parts = new List<string>();
        if ((ContextMask & ContextBits.DestinationUk) != 0)
        {
            parts.Add("uk");
        }

        if ((ContextMask & ContextBits.DestinationAbroad) != 0)
        {
            parts.Add("abroad");
        }

        if (Countries is not null)
        {
            foreach (int i in Bits.Indexes(Countries))
            {
                parts.Add(countryNames[i]);
            }
        }

        return "[" + string.Join(", ", parts) + "]";
    }

    private static void Append(StringBuilder why, string text)
    {
        if (why.Length > 0)
        {
            why.Append("; ");
        }

        why.Append(text);
    }

    private static string Names(ulong bits, string[] names)
    {
        var parts = new List<string>();
        for (int i = 0; i < names.Length && i < 64; i++)
        {
            if ((bits & (1UL << i)) != 0)
            {
                parts.Add(names[i]);
            }
        }

        return parts.Count == 0 ? "(none)" : string.Join(", ", parts);
    }
}
