using System.Buffers;
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

    /// <summary>Members in ordinal order, like the canonical context, so the column is canonical JSON too.</summary>
    private static string LawfulBasisJson(AuditLawfulBasis basis)
    {
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

    private static string StringArrayJson(IReadOnlyList<string> items)
    {
        if (items.Count == 0)
        {
            return "[]";
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
}
