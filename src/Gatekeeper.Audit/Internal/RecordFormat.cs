using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gatekeeper.Audit.Internal;

/// <summary>
/// The on-disk record format and the hash chain. Changing anything here breaks verification of existing
/// logs, so the encoding is versioned by <see cref="Magic"/> and pinned by tests.
/// </summary>
internal static class RecordFormat
{
    public const int HashLength = 32;

    /// <summary>Stored columns that are hashed, in canonical order (seq, prev_hash and hash are not content).</summary>
    public static readonly string[] Columns =
    [
        "decision_id", "time", "caller", "request_id", "category", "recipient", "purpose", "context",
        "decision", "rule_id", "policy_version", "lawful_basis", "obligations", "reason", "from_cache",
        "trace_id", "subject_hmac",
    ];

    public const int DecisionId = 0;
    public const int Time = 1;
    public const int Caller = 2;
    public const int RequestId = 3;
    public const int Category = 4;
    public const int Recipient = 5;
    public const int Purpose = 6;
    public const int Context = 7;
    public const int Decision = 8;
    public const int RuleId = 9;
    public const int PolicyVersion = 10;
    public const int LawfulBasis = 11;
    public const int Obligations = 12;
    public const int Reason = 13;
    public const int FromCache = 14;
    public const int TraceId = 15;
    public const int SubjectHmac = 16;

    /// <summary>Format tag hashed into every record, so that a future v2 cannot be confused with v1.</summary>
    public static ReadOnlySpan<byte> Magic => "GKA1"u8;

    /// <summary>The chain starts from 32 zero bytes (or from the hash in the latest purge checkpoint).</summary>
    public static byte[] GenesisHash() => new byte[HashLength];

    /// <summary>Fixed-width UTC text: sorts like the instant it names, so range filters work on the text column.</summary>
    /// <remarks>
    /// The round-trip format "O" of a UTC <see cref="DateTime"/> is exactly <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>
    /// (pinned by a test) and has a fast path that the equivalent custom format string does not.
    /// </remarks>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>
    /// Builds <c>[32 bytes reserved for prev_hash] || "GKA1" || for each column: u32 big-endian byte length || UTF-8</c>.
    /// Length prefixes make the encoding unambiguous (no separator can be forged inside a field). A NULL column,
    /// which only tampering can produce, is encoded with length 0xFFFFFFFF so it can never match.
    /// The leading 32 bytes let the writer drop in the previous hash and hash the buffer without copying.
    /// </summary>
    public static byte[] EncodeWithPrevSlot(IReadOnlyList<string?> fields)
    {
        var size = HashLength + Magic.Length;
        for (var i = 0; i < fields.Count; i++)
        {
            size += 4 + (fields[i] is { } f ? Encoding.UTF8.GetByteCount(f) : 0);
        }

        var buffer = new byte[size];
        Magic.CopyTo(buffer.AsSpan(HashLength));
        var offset = HashLength + Magic.Length;
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i] is not { } field)
            {
                BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(offset), uint.MaxValue);
                offset += 4;
                continue;
            }

            var written = Encoding.UTF8.GetBytes(field, buffer.AsSpan(offset + 4));
            BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(offset), (uint)written);
            offset += 4 + written;
        }

        return buffer;
    }

    /// <summary>hash = SHA-256(prev_hash || encoding). Overwrites the reserved slot of <paramref name="encoded"/>.</summary>
    /// <param name="independent">
    /// Hash with .NET's SHA-256 rather than the writer's (<see cref="ChainSha256"/>): the verifier's choice, so that
    /// every verification checks the writer's hashes with a second implementation.
    /// </param>
    public static byte[] ChainHash(ReadOnlySpan<byte> prevHash, byte[] encoded, bool independent = false)
    {
        prevHash.CopyTo(encoded);
        return independent ? SHA256.HashData(encoded) : ChainSha256.HashData(encoded);
    }
}
