using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Gatekeeper.Audit.Internal;

/// <summary>
/// A record turned into its stored columns and canonical encoding on the caller's thread, so that the single
/// writer only has to chain-hash and insert (JSON canonicalisation and the subject HMAC run in parallel).
/// </summary>
internal sealed class PreparedRecord
{
    private PreparedRecord(string[] fields, byte[] encoded)
    {
        Fields = fields;
        Encoded = encoded;
    }

    /// <summary>Column values in <see cref="RecordFormat.Columns"/> order.</summary>
    public string[] Fields { get; }

    /// <summary>Canonical encoding with the prev-hash slot; see <see cref="RecordFormat.EncodeWithPrevSlot"/>.</summary>
    public byte[] Encoded { get; }

    public static PreparedRecord Create(AuditRecord record, AuditKey key, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (string.IsNullOrEmpty(record.DecisionId))
        {
            throw new ArgumentException("DecisionId is required.", nameof(record));
        }

        if (!AuditDecisions.IsValid(record.Decision))
        {
            throw new ArgumentException($"Decision must be allow, allow_with_conditions or deny (was '{record.Decision}').", nameof(record));
        }

        if (!AuditCacheResults.IsValid(record.FromCache))
        {
            throw new ArgumentException($"FromCache must be l1, l2 or miss (was '{record.FromCache}').", nameof(record));
        }

        var time = record.Time == default ? timeProvider.GetUtcNow() : record.Time;
        var fields = new string[RecordFormat.Columns.Length];
        fields[RecordFormat.DecisionId] = record.DecisionId;
        fields[RecordFormat.Time] = RecordFormat.FormatTime(time);
        fields[RecordFormat.Caller] = record.Caller ?? "";
        fields[RecordFormat.RequestId] = record.RequestId ?? "";
        fields[RecordFormat.Category] = record.Category ?? "";
        fields[RecordFormat.Recipient] = record.Recipient ?? "";
        fields[RecordFormat.Purpose] = record.Purpose ?? "";
        fields[RecordFormat.Context] = ContextCanonicalizer.Canonicalize(record.Context);
        fields[RecordFormat.Decision] = record.Decision;
        fields[RecordFormat.RuleId] = record.RuleId ?? "";
        fields[RecordFormat.PolicyVersion] = record.PolicyVersion ?? "";
        fields[RecordFormat.LawfulBasis] = LawfulBasisJson(record.LawfulBasis ?? AuditLawfulBasis.None);
        fields[RecordFormat.Obligations] = StringArrayJson(record.Obligations ?? []);
        fields[RecordFormat.Reason] = record.Reason ?? "";
        fields[RecordFormat.FromCache] = record.FromCache;
        fields[RecordFormat.TraceId] = record.TraceId ?? "";
        fields[RecordFormat.SubjectHmac] = key.HashSubject(record.SubjectRef ?? "");
        return new PreparedRecord(fields, RecordFormat.EncodeWithPrevSlot(fields));
    }

    // The service hands the same AuditLawfulBasis instance for every answer of a rule, and the default policy's
    // texts (apostrophes) take the writer's escaping path, the costliest part of preparing a record. The cache keeps
    // a copy of the texts it was built from and is used only while the instance still holds exactly those texts, so
    // a caller that mutates its legislation list still gets what it now holds.
    private static readonly ConditionalWeakTable<AuditLawfulBasis, BasisJson> LawfulBases = new();

    /// <summary>Members in ordinal order, like the canonical context, so the column is canonical JSON too.</summary>
    internal static string LawfulBasisJson(AuditLawfulBasis basis)
    {
        if (LawfulBases.TryGetValue(basis, out var known) && known.IsFor(basis))
        {
            return known.Json;
        }

        var json = BuildLawfulBasisJson(basis);
        LawfulBases.AddOrUpdate(basis, new BasisJson(basis.Article10, basis.Article6, basis.Article9, [.. basis.Legislation ?? []], json));
        return json;
    }

    private static string BuildLawfulBasisJson(AuditLawfulBasis basis)
    {
        var article10 = basis.Article10 ?? "";
        var article6 = basis.Article6 ?? "";
        var article9 = basis.Article9 ?? "";
        var legislation = basis.Legislation ?? [];
        if (IsPlain(article10) && IsPlain(article6) && IsPlain(article9) && AllPlain(legislation))
        {
            var sb = new StringBuilder(64 + article10.Length + article6.Length + article9.Length);
            sb.Append("{\"article10\":\"").Append(article10)
                .Append("\",\"article6\":\"").Append(article6)
                .Append("\",\"article9\":\"").Append(article9)
                .Append("\",\"legislation\":");
            AppendArray(sb, legislation);
            return sb.Append('}').ToString();
        }

        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("article10", basis.Article10 ?? "");
            writer.WriteString("article6", basis.Article6 ?? "");
            writer.WriteString("article9", basis.Article9 ?? "");
            writer.WriteStartArray("legislation");
            foreach (var item in basis.Legislation ?? [])
            {
                writer.WriteStringValue(item);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static string StringArrayJson(IReadOnlyList<string> items)
    {
        if (items.Count == 0)
        {
            return "[]";
        }

        if (AllPlain(items))
        {
            return AppendArray(new StringBuilder(16 * items.Count), items).ToString();
        }

        var buffer = new ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = 0; i < items.Count; i++)
            {
                writer.WriteStringValue(items[i]);
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // Text that Utf8JsonWriter (default encoder) writes verbatim, so the hand-built JSON below is byte for byte what
    // the writer would produce: the stored column, and so the hash, does not depend on which path built it. Building
    // these two small columns through Utf8JsonWriter cost a buffer, a writer and a transcoding per record. Anything
    // else (quotes, '+', '<', non-ASCII, controls...) takes the writer's path and its escaping.
    private static bool IsPlain(string? value)
    {
        if (value is null)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is ' ' or '-' or '_' or '.' or ',' or ':' or ';' or '(' or ')' or '/' or '#'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllPlain(IReadOnlyList<string> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (!IsPlain(items[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static StringBuilder AppendArray(StringBuilder sb, IReadOnlyList<string> items)
    {
        sb.Append('[');
        for (var i = 0; i < items.Count; i++)
        {
            sb.Append(i == 0 ? "\"" : ",\"").Append(items[i]).Append('"');
        }

        return sb.Append(']');
    }

    private sealed class BasisJson(string? article10, string? article6, string? article9, string?[] legislation, string json)
    {
        public string Json { get; } = json;

        public bool IsFor(AuditLawfulBasis basis)
        {
            var items = basis.Legislation;
            if (!string.Equals(article10, basis.Article10, StringComparison.Ordinal)
                || !string.Equals(article6, basis.Article6, StringComparison.Ordinal)
                || !string.Equals(article9, basis.Article9, StringComparison.Ordinal)
                || items is null
                || items.Count != legislation.Length)
            {
                return false;
            }

            for (var i = 0; i < legislation.Length; i++)
            {
                if (!string.Equals(legislation[i], items[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
