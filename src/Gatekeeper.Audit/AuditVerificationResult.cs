using System.Globalization;

namespace Gatekeeper.Audit;

/// <summary>What is wrong with the first broken record.</summary>
public enum AuditTamperKind
{
    /// <summary>The record's content no longer matches its own hash.</summary>
    ContentEdited,

    /// <summary>A gap in the sequence, or a record whose prev_hash matches no record: something was deleted.</summary>
    RecordDeleted,

    /// <summary>The record chains from a record that is elsewhere in the log: records were moved.</summary>
    Reordered,

    /// <summary>The purge checkpoint's signature does not verify: the cut was not made by the key holder.</summary>
    ForgedCut,

    /// <summary>A signed head checkpoint does not match the record at its sequence (chain rewritten), or its signature is bad.</summary>
    CheckpointMismatch,

    /// <summary>A signed checkpoint names a sequence beyond the end of the log: the tail was cut off.</summary>
    Truncated,

    /// <summary>The log holds a signed purge cut but no key was found to check it.</summary>
    KeyMissing,
}

/// <summary>The first broken record found by <see cref="AuditVerifier"/>.</summary>
public sealed record AuditVerificationProblem(AuditTamperKind Kind, long Sequence, string DecisionId, string Detail)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Kind} at sequence {Sequence} (decision {(DecisionId.Length == 0 ? "-" : DecisionId)}): {Detail}");
}

/// <summary>Outcome of <see cref="AuditVerifier.Verify(AuditOptions)"/>.</summary>
public sealed class AuditVerificationResult
{
    public bool IsValid => Problem is null;

    /// <summary>Null when the whole chain verifies.</summary>
    public AuditVerificationProblem? Problem { get; init; }

    public long RecordsChecked { get; init; }

    /// <summary>Sequence the chain starts after: 0, or the last record removed by a verified purge.</summary>
    public long CutSequence { get; init; }

    public long LastSequence { get; init; }

    /// <summary>Hex SHA-256 of the last record (what an external anchor should hold).</summary>
    public string HeadHash { get; init; } = "";

    public int CheckpointsChecked { get; init; }

    /// <summary>False when no key was available, so checkpoint signatures were not checked.</summary>
    public bool SignaturesChecked { get; init; }

    public override string ToString() =>
        Problem is { } problem
            ? $"BROKEN: {problem}"
            : string.Create(CultureInfo.InvariantCulture,
                $"OK: {RecordsChecked} records verified (sequence {CutSequence + 1}..{LastSequence}), {CheckpointsChecked} checkpoints, head {HeadHash}{(SignaturesChecked ? "" : " (no key: signatures not checked)")}");
}
