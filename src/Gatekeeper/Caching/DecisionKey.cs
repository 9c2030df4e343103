using System.Text;
using Gatekeeper.Policy;

namespace Gatekeeper.Caching;

/// <summary>
/// What a decision depends on: the policy version and the request as the policy sees it (defaults spelled
/// out, country upper-cased with GB read as the UK, statuses sorted and de-duplicated). Not the request id,
/// the subject reference or the explain flag: two calls that differ only in those share one decision.
/// </summary>
public readonly struct DecisionKey : IEquatable<DecisionKey>
{
    private readonly string _policyVersion;
    private readonly string _category;
    private readonly string _recipient;
    private readonly string _purpose;
    private readonly string _country;
    private readonly string _statuses;
    private readonly int _flags;

    private DecisionKey(string policyVersion, in PolicyQuery query)
    {
        _policyVersion = policyVersion;
        _category = query.Category;
        _recipient = query.Recipient;
        _purpose = query.Purpose;
        _country = query.DestinationCountry == "GB" ? string.Empty : query.DestinationCountry;
        _statuses = NormaliseStatuses(query.SubjectStatuses);
        _flags = (int)query.Form
            | ((int)query.Consent << 2)
            | (query.SubjectRequest ? 1 << 4 : 0)
            | (query.SubjectIsMinor switch { null => 0, false => 1, true => 2 } << 5);
    }

    /// <summary>The key of <paramref name="query"/> under <paramref name="policyVersion"/>.</summary>
    public static DecisionKey For(string policyVersion, in PolicyQuery query) => new(policyVersion, query);

    /// <summary>Characters of the key's parts (for the cache's memory estimate).</summary>
    public int TextLength => _policyVersion.Length + _category.Length + _recipient.Length + _purpose.Length + _country.Length + _statuses.Length + 16;

    /// <summary>The policy version the key belongs to.</summary>
    public string PolicyVersion => _policyVersion;

    /// <summary>
    /// The text form, used as the Redis key (after the instance prefix) and as the signed content of an L2
    /// entry. Ids are [a-z0-9_] and the country two letters, so ':' and ',' cannot appear inside a part.
    /// </summary>
    public string ToText() => new StringBuilder(_policyVersion.Length + 96)
        .Append("d1:").Append(_policyVersion).Append(':')
        .Append(_category).Append(':').Append(_recipient).Append(':').Append(_purpose).Append(':')
        .Append(_flags).Append(':').Append(_country).Append(':').Append(_statuses)
        .ToString();

    /// <inheritdoc />
    public bool Equals(DecisionKey other) =>
        _flags == other._flags
        && string.Equals(_category, other._category, StringComparison.Ordinal)
        && string.Equals(_recipient, other._recipient, StringComparison.Ordinal)
        && string.Equals(_purpose, other._purpose, StringComparison.Ordinal)
        && string.Equals(_country, other._country, StringComparison.Ordinal)
        && string.Equals(_statuses, other._statuses, StringComparison.Ordinal)
        && string.Equals(_policyVersion, other._policyVersion, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is DecisionKey other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        StringComparer.Ordinal.GetHashCode(_category),
        StringComparer.Ordinal.GetHashCode(_recipient),
        StringComparer.Ordinal.GetHashCode(_purpose),
        _flags,
        StringComparer.Ordinal.GetHashCode(_country),
        StringComparer.Ordinal.GetHashCode(_statuses),
        StringComparer.Ordinal.GetHashCode(_policyVersion));

    /// <summary>Equal keys.</summary>
    public static bool operator ==(DecisionKey left, DecisionKey right) => left.Equals(right);

    /// <summary>Different keys.</summary>
    public static bool operator !=(DecisionKey left, DecisionKey right) => !left.Equals(right);

    private static string NormaliseStatuses(IReadOnlyList<string>? statuses)
    {
        // Most requests state no status or one: no allocation then.
        if (statuses is null || statuses.Count == 0)
        {
            return string.Empty;
        }

        if (statuses.Count == 1)
        {
            return statuses[0];
        }

        var sorted = new string[statuses.Count];
        for (var i = 0; i < sorted.Length; i++)
        {
            sorted[i] = statuses[i];
        }

        Array.Sort(sorted, StringComparer.Ordinal);
        var sb = new StringBuilder(sorted.Length * 16);
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && sorted[i] == sorted[i - 1])
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(sorted[i]);
        }

        return sb.ToString();
    }
}
