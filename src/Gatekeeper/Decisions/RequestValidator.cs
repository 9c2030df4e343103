using Gatekeeper.Protocol;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.Decisions;

/// <summary>
/// Checks a request before anything else looks at it: ids are 1-64 characters of [a-z0-9_], every string
/// is bounded, enums hold defined values. A bad request ends with INVALID_ARGUMENT naming the field.
/// </summary>
public static class RequestValidator
{
    /// <summary>Longest id (category, recipient, purpose, subject status).</summary>
    public const int MaxIdLength = 64;
    /// <summary>Longest caller correlation id.</summary>
    public const int MaxRequestIdLength = 128;
    /// <summary>Longest subject reference.</summary>
    public const int MaxSubjectRefLength = 256;
    /// <summary>Most subject statuses in one request.</summary>
    public const int MaxSubjectStatuses = 16;
    /// <summary>Most requests in one DecideBatch.</summary>
    public const int MaxBatchSize = 100;

    /// <summary>Throws INVALID_ARGUMENT for the first bad field; <paramref name="prefix"/> locates the request in a batch.</summary>
    public static void Validate(DecideRequest request, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckId(request.Category, prefix, "category");
        CheckId(request.Recipient, prefix, "recipient");
        CheckId(request.Purpose, prefix, "purpose");
        CheckText(request.RequestId, MaxRequestIdLength, prefix, "request_id");
        CheckText(request.SubjectRef, MaxSubjectRefLength, prefix, "subject_ref");
        var context = request.Context;
        if (context is null)
        {
            return;
        }

        if (context.Form is < DataForm.Unspecified or > DataForm.Anonymised)
        {
            throw Invalid(prefix, "context.form", $"unknown value {(int)context.Form}; use DATA_FORM_IDENTIFIABLE, _PSEUDONYMISED or _ANONYMISED");
        }

        if (context.Consent is < Consent.Unspecified or > Consent.Withdrawn)
        {
            throw Invalid(prefix, "context.consent", $"unknown value {(int)context.Consent}; use CONSENT_GIVEN, _REFUSED or _WITHDRAWN");
        }

        var statuses = context.SubjectStatuses;
        if (statuses.Count > MaxSubjectStatuses)
        {
            throw Invalid(prefix, "context.subject_statuses", $"at most {MaxSubjectStatuses} entries (got {statuses.Count})");
        }

        for (var i = 0; i < statuses.Count; i++)
        {
            if (!IsId(statuses[i]))
            {
                throw Invalid(prefix, $"context.subject_statuses[{i}]", IdRule(statuses[i]));
            }
        }

        var country = context.DestinationCountry;
        if (country.Length != 0 && !(country.Length == 2 && char.IsAsciiLetter(country[0]) && char.IsAsciiLetter(country[1])))
        {
            throw Invalid(prefix, "context.destination_country", $"must be empty (UK) or an ISO 3166-1 alpha-2 code such as GB or FR (got '{Shorten(country)}')");
        }
    }

    /// <summary>Checks the batch size, then every request, naming the index of a bad one.</summary>
    public static void Validate(DecideBatchRequest batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var count = batch.Requests.Count;
        if (count is 0 or > MaxBatchSize)
        {
            throw new RpcException(StatusCode.InvalidArgument, $"requests: must hold 1 to {MaxBatchSize} requests (got {count}).");
        }

        for (var i = 0; i < count; i++)
        {
            Validate(batch.Requests[i], $"requests[{i}].");
        }
    }

    /// <summary>True for 1-64 characters of [a-z0-9_].</summary>
    public static bool IsId(string value)
    {
        if (value.Length is 0 or > MaxIdLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckId(string value, string prefix, string field)
    {
        if (!IsId(value))
        {
            throw Invalid(prefix, field, IdRule(value));
        }
    }

    private static void CheckText(string value, int max, string prefix, string field)
    {
        if (value.Length > max)
        {
            throw Invalid(prefix, field, $"at most {max} characters (got {value.Length})");
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                throw Invalid(prefix, field, "must not contain control characters");
            }
        }
    }

    private static string IdRule(string value) => value.Length == 0
        ? "is required: 1-64 characters of [a-z0-9_]"
        : $"must be 1-64 characters of [a-z0-9_] (got '{Shorten(value)}')";

    private static string Shorten(string value) => value.Length <= MaxIdLength ? value : string.Concat(value.AsSpan(0, MaxIdLength), "...");

    private static RpcException Invalid(string prefix, string field, string rule) =>
        new(StatusCode.InvalidArgument, $"{prefix}{field}: {rule}.");
}
