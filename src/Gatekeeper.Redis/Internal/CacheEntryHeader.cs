using System.Buffers.Binary;

namespace Gatekeeper.Redis.Internal;

/// <summary>
/// The 17 bytes <see cref="RedisCache"/> puts in front of every value: a version byte, then the absolute expiry
/// (Unix ms) and the sliding window (ms), little-endian, -1 for none. Keeping them in the value instead of a
/// hash means Set is one plain SET with PX, Get one GET, and Refresh reads only these bytes with GETRANGE.
/// </summary>
internal static class CacheEntryHeader
{
    public const int Size = 17;
    public const byte Version = 1;

    public static void Write(Span<byte> destination, long absoluteUnixMs, long slidingMs)
    {
        destination[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(destination[1..], absoluteUnixMs);
        BinaryPrimitives.WriteInt64LittleEndian(destination[9..], slidingMs);
    }

    /// <summary>False for values this cache did not write (or a future version): they are treated as a miss.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out long absoluteUnixMs, out long slidingMs)
    {
        absoluteUnixMs = -1;
        slidingMs = -1;
        if (source.Length < Size || source[0] != Version)
        {
            return false;
        }

        absoluteUnixMs = BinaryPrimitives.ReadInt64LittleEndian(source[1..]);
        slidingMs = BinaryPrimitives.ReadInt64LittleEndian(source[9..]);
        return absoluteUnixMs >= -1 && slidingMs >= -1 && slidingMs != 0;
    }
}
