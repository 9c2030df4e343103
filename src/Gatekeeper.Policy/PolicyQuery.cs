namespace Gatekeeper.Policy;

/// <summary>The form in which the records would leave the council.</summary>
public enum DataForm
{
    /// <summary>Names the person (the default when the caller says nothing).</summary>
    Identifiable = 0,

    /// <summary>Identifiers replaced by a key that someone still holds: still personal data.</summary>
    Pseudonymised = 1,

    /// <summary>No one can identify the person any more: outside UK GDPR (Recital 26).</summary>
    Anonymised = 2,
}

/// <summary>What the person has said about this use of their data. Numbers match the wire enum.</summary>
public enum Consent
{
    /// <summary>Not asked or not recorded (the default).</summary>
    Unknown = 0,

    /// <summary>The person gave permission.</summary>
    Given = 1,

    /// <summary>The person said no.</summary>
    Refused = 2,

    /// <summary>The person gave permission and took it back.</summary>
    Withdrawn = 3,
}

/// <summary>
/// One question: may records of <see cref="Category"/> go to <see cref="Recipient"/> for
/// <see cref="Purpose"/>, given the context the caller states? A value type passed by <c>in</c>
/// so that asking allocates nothing.
/// </summary>
/// <param name="Category">Record category id.</param>
/// <param name="Recipient">Recipient id.</param>
/// <param name="Purpose">Purpose id.</param>
/// <param name="Form">Form of the data.</param>
/// <param name="Consent">The person's consent to this use.</param>
/// <param name="SubjectStatuses">Statuses of the person (looked_after, ...); null means none.</param>
/// <param name="DestinationCountry">ISO 3166-1 alpha-2, upper case; "" or "GB" is the UK.</param>
/// <param name="SubjectRequest">True when the person asked for this disclosure (representatives).</param>
/// <param name="SubjectIsMinor">True/false when known, null when not known.</param>
public readonly record struct PolicyQuery(
    string Category,
    string Recipient,
    string Purpose,
    DataForm Form = DataForm.Identifiable,
    Consent Consent = Consent.Unknown,
    IReadOnlyList<string>? SubjectStatuses = null,
    string DestinationCountry = "",
    bool SubjectRequest = false,
    bool? SubjectIsMinor = null);
