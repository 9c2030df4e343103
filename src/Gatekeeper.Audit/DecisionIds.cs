using System.Buffers.Binary;

namespace Gatekeeper.Audit;

/// <summary>
/// Decision ids: a UUID v7 written as 26 Crockford base32 characters (the ULID text form), so that ids
/// sort by creation time both as strings and in the log's index, and stay short enough for a URL.
/// </summary>
public static class DecisionIds
{
    /// <summary>Length of every id produced here.</summary>
    public const int Length = 26;

    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New() => New(TimeProvider.System);

    public static string New(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Encode(Guid.CreateVersion7(timeProvider.GetUtcNow()));
    }

    internal static string Encode(Guid guid)
    {
        Span<byte> bytes = stackalloc byte[16];
        // Big-endian puts the 48-bit millisecond timestamp first, which is what makes the text sortable.
        guid.TryWriteBytes(bytes, bigEndian: true, out _);
        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return string.Create(Length, value, static (chars, v) =>
        {
            for (var i = chars.Length - 1; i >= 0; i--)
            {
                chars[i] = Alphabet[(int)(v & 31)];
                v >>= 5;
            }
        });
    }
}
