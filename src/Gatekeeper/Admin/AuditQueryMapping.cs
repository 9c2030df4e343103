using System.Globalization;
using System.Text;
using System.Text.Json;
using Gatekeeper.Audit;
using Gatekeeper.Decisions;
using Gatekeeper.Protocol;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.Admin;

/// <summary>
/// Turns a QueryAudit request into the library's filter (INVALID_ARGUMENT naming the field for anything
/// malformed) and a stored entry into its wire form. Same filters and same time syntax as <c>audit export</c>.
/// </summary>
internal static class AuditQueryMapping
{
    private const string DecisionIdAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static AuditQueryFilter ToFilter(QueryAuditRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var from = Time(request.From, "from");
        var to = Time(request.To, "to");
        if (from is { } f && to is { } t && t < f)
        {
            throw Invalid("to", $"must not be before from ({request.From})");
        }

        return new AuditQueryFilter
        {
            From = from,
            To = to,
            Recipient = Id(request.Recipient, "recipient"),
            Category = Id(request.Category, "category"),
            Purpose = Id(request.Purpose, "purpose"),
            Decision = request.Decision switch
            {
                Decision.Unspecified => null,
                Decision.Allow => AuditDecisions.Allow,
                Decision.AllowWithConditions => AuditDecisions.AllowWithConditions,
                Decision.Deny => AuditDecisions.Deny,
                _ => throw Invalid("decision", $"unknown value {(int)request.Decision}; use DECISION_ALLOW, _ALLOW_WITH_CONDITIONS or _DENY"),
            },
            DecisionId = DecisionId(request.DecisionId),
            Subject = SubjectRef(request.SubjectRef),
        };
    }

    /// <summary>0 means the default; above the maximum is lowered to it (AIP-158), below 0 is a caller bug.</summary>
    public static int PageSize(int requested) => requested switch
    {
        < 0 => throw Invalid("page_size", $"must not be negative (got {requested})"),
        0 => AuditQuery.DefaultPageSize,
        > AuditQuery.MaxPageSize => AuditQuery.MaxPageSize,
        _ => requested,
    };

    /// <summary>For the admin log line: which filters were used, never the subject reference itself.</summary>
    public static string Describe(QueryAuditRequest request)
    {
        var sb = new StringBuilder();
        void Add(string name, string value)
        {
            if (value.Length != 0)
            {
                sb.Append(sb.Length == 0 ? "" : ", ").Append(name).Append('=').Append(value);
            }
        }

        Add("from", request.From);
        Add("to", request.To);
        Add("recipient", request.Recipient);
        Add("category", request.Category);
        Add("purpose", request.Purpose);
        Add("decision", request.Decision == Decision.Unspecified ? "" : request.Decision.ToString());
        Add("decision_id", request.DecisionId);
        Add("subject_ref", request.SubjectRef.Length == 0 ? "" : "(given)");
        Add("page_token", request.PageToken);
        return sb.Length == 0 ? "no filter" : sb.ToString();
    }

    public static AuditLogEntry ToRecord(AuditEntry entry)
    {
        var record = new AuditLogEntry
        {
            DecisionId = entry.DecisionId,
            Seq = entry.Sequence,
            Time = entry.TimeText,
            Category = entry.Category,
            Recipient = entry.Recipient,
            Purpose = entry.Purpose,
            Decision = entry.Decision switch
            {
                AuditDecisions.Allow => Decision.Allow,
                AuditDecisions.AllowWithConditions => Decision.AllowWithConditions,
                AuditDecisions.Deny => Decision.Deny,
                _ => Decision.Unspecified,
            },
            RuleId = entry.RuleId,
            PolicyVersion = entry.PolicyVersion,
            LawfulBasis = LawfulBasis(entry.LawfulBasisJson),
            Reason = entry.Reason,
            ContextJson = entry.ContextJson,
            Caller = entry.Caller,
            RequestId = entry.RequestId,
            FromCache = entry.FromCache,
            TraceId = entry.TraceId,
            SubjectHmac = entry.SubjectHmac,
            PrevHash = entry.PrevHash,
            Hash = entry.Hash,
        };
        AddStrings(record.Obligations, entry.ObligationsJson);
        return record;
    }

    // The stored JSON columns were written by the log itself; one that does not parse was edited by hand,
    // which `audit verify` reports. The dashboard then sees the field empty rather than no page at all.
    private static V1.LawfulBasis? LawfulBasis(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var basis = new V1.LawfulBasis
            {
                Article6 = Text(root, "article6"),
                Article9 = Text(root, "article9"),
                Article10 = Text(root, "article10"),
            };
            if (root.TryGetProperty("legislation", out var legislation) && legislation.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in legislation.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        basis.Legislation.Add(item.GetString() ?? "");
                    }
                }
            }

            return basis;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void AddStrings(Google.Protobuf.Collections.RepeatedField<string> target, string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                return;
            }

            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String)
                {
                    target.Add(item.GetString() ?? "");
                }
            }
        }
        catch (JsonException)
        {
            // See LawfulBasis: a hand-edited column; verify names the record.
        }
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";

    private static DateTimeOffset? Time(string text, string field)
    {
        if (text.Length == 0)
        {
            return null;
        }

        // The export's parser (an offset-less time is UTC: the log is in UTC and local server time is a trap),
        // but only for texts that start like a date: DateTimeOffset.TryParse alone also takes "5" or "Monday".
        var looksLikeDate = text.Length >= 10 && char.IsAsciiDigit(text[0]) && char.IsAsciiDigit(text[1])
            && char.IsAsciiDigit(text[2]) && char.IsAsciiDigit(text[3]) && text[4] == '-';
        if (!looksLikeDate || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            throw Invalid(field, $"must be an RFC 3339 time such as 2026-11-21T09:00:00Z (got '{Shorten(text)}')");
        }

        return parsed;
    }

    private static string? Id(string value, string field)
    {
        if (value.Length == 0)
        {
            return null;
        }

        return RequestValidator.IsId(value)
            ? value
            : throw Invalid(field, $"must be 1-{RequestValidator.MaxIdLength} characters of a-z, 0-9 and _ (got '{Shorten(value)}')");
    }

    private static string? DecisionId(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        if (value.Length != DecisionIds.Length || value.AsSpan().IndexOfAnyExcept(DecisionIdAlphabet) >= 0)
        {
            throw Invalid("decision_id", $"must be {DecisionIds.Length} characters of Crockford base32 in upper case, as Decide returns it (got '{Shorten(value)}')");
        }

        return value;
    }

    private static string? SubjectRef(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        if (value.Length > RequestValidator.MaxSubjectRefLength)
        {
            throw Invalid("subject_ref", $"at most {RequestValidator.MaxSubjectRefLength} characters (got {value.Length})");
        }

        // Never echo the reference: it identifies a person.
        return value.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0
            ? throw Invalid("subject_ref", "must not contain control characters")
            : value;
    }

    private static RpcException Invalid(string field, string rule) =>
        new(StatusCode.InvalidArgument, $"{field}: {rule}.");

    private static string Shorten(string value) =>
        value.Length <= 40 ? value : string.Concat(value.AsSpan(0, 40), "...");
}
