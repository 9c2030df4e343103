using System.Security.Cryptography;
using Gatekeeper.Audit.Internal;

namespace Gatekeeper.Audit.Tests;

/// <summary>Pins the on-disk format: any change here breaks verification of every existing log.</summary>
public sealed class FormatTests
{
    [Fact]
    public void ChainHash_KnownRecord_MatchesThePinnedValue()
    {
        string?[] fields = ["01JD0000000000000000000000", "2026-11-21T09:00:00.0000000Z", "c", "r", "child_protection", "police",
            "crime_prevention", "{}", "deny", "rule", "v1", "{}", "[]", "why", "miss", "", ""];
        var encoded = RecordFormat.EncodeWithPrevSlot(fields);

        var hash = RecordFormat.ChainHash(RecordFormat.GenesisHash(), encoded);

        // SHA-256(32 zero bytes || "GKA1" || (u32be len || utf8) per field); recomputed independently with Python's hashlib.
        Assert.Equal(PinnedHash, Convert.ToHexStringLower(hash));
        Assert.Equal(PinnedHash, Convert.ToHexStringLower(RecordFormat.ChainHash(RecordFormat.GenesisHash(), encoded, independent: true)));
    }

    [Fact]
    public void ChainSha256_EveryLengthUpToFiveBlocks_MatchesDotNetSha256()
    {
        // The writer's SHA-256 (OpenSSL's plain functions) against .NET's, across every padding case.
        var data = new byte[64 * 5 + 1];
        new Random(7).NextBytes(data);
        for (var length = 0; length <= data.Length; length++)
        {
            Assert.Equal(SHA256.HashData(data.AsSpan(0, length)), ChainSha256.HashData(data.AsSpan(0, length)));
        }

        // On Linux with OpenSSL 3 (this service's platform) the fast path must be the one in use, or the figures lie.
        Assert.Equal(OperatingSystem.IsLinux(), ChainSha256.IsNative);
    }

    [Fact]
    public void SqliteNative_ReachesTheLibrarySqlitePclRawUses()
    {
        // The writer passes SQLitePCLRaw's statement handles to its own imports; they must be the same SQLite.
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
        connection.Open();
        Assert.True(SqliteNative.IsSqlitePclRawLibrary());
    }

    [Fact]
    public void EncodeWithPrevSlot_FieldBoundariesMoved_ChangesTheHash()
    {
        var a = RecordFormat.ChainHash(RecordFormat.GenesisHash(), RecordFormat.EncodeWithPrevSlot(["ab", "c"]));
        var b = RecordFormat.ChainHash(RecordFormat.GenesisHash(), RecordFormat.EncodeWithPrevSlot(["a", "bc"]));
        var nullField = RecordFormat.ChainHash(RecordFormat.GenesisHash(), RecordFormat.EncodeWithPrevSlot(["ab", null]));
        var emptyField = RecordFormat.ChainHash(RecordFormat.GenesisHash(), RecordFormat.EncodeWithPrevSlot(["ab", ""]));
        Assert.NotEqual(a, b);
        Assert.NotEqual(nullField, emptyField);
    }

    [Fact]
    public void Canonicalize_SameFactsDifferentLayout_GiveTheSameText()
    {
        var a = ContextCanonicalizer.Canonicalize("""{ "form": "anonymised", "consent": "given", "subject_statuses": ["b", "a"] }""");
        var b = ContextCanonicalizer.Canonicalize("""{"subject_statuses":["b","a"],"consent":"given","form":"anonymised"}""");
        Assert.Equal("""{"consent":"given","form":"anonymised","subject_statuses":["b","a"]}""", a);
        Assert.Equal(a, b);
        Assert.Equal("{}", ContextCanonicalizer.Canonicalize(""));
    }

    [Fact]
    public void DecisionIds_New_Are26CharsUniqueAndSortByTime()
    {
        var earlier = DecisionIds.New(new Support.ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        var later = DecisionIds.New(new Support.ManualTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, 1, TimeSpan.Zero)));
        var many = Enumerable.Range(0, 10_000).Select(_ => DecisionIds.New()).ToArray();

        Assert.Equal(DecisionIds.Length, earlier.Length);
        Assert.True(string.CompareOrdinal(earlier, later) < 0);
        Assert.Equal(many.Length, many.Distinct(StringComparer.Ordinal).Count());
        Assert.All(many, id => Assert.Matches("^[0-9A-HJKMNP-TV-Z]{26}$", id));
    }

    [Fact]
    public void DecisionIds_AreUuidVersion7_WithTheTimestampAndFreshRandomBits()
    {
        // Arrange
        var time = new DateTimeOffset(2026, 11, 22, 7, 40, 0, 123, TimeSpan.Zero);
        var clock = new Support.ManualTimeProvider(time);

        // Act: more ids than one block of random bytes holds, on one thread.
        var ids = Enumerable.Range(0, 1_000).Select(_ => DecisionIds.New(clock)).ToArray();

        // Assert: each decodes to a UUID that .NET reads as version 7, variant 10, with the clock's milliseconds.
        Span<byte> bytes = stackalloc byte[16];
        foreach (var id in ids)
        {
            var value = UInt128.Zero;
            foreach (var c in id)
            {
                value = (value << 5) | (uint)"0123456789ABCDEFGHJKMNPQRSTVWXYZ".IndexOf(c, StringComparison.Ordinal);
            }

            System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
            var guid = new Guid(bytes, bigEndian: true);
            Assert.Equal(7, guid.Version);
            Assert.Equal(0b1000, guid.Variant & 0b1100);
            Assert.Equal(time.ToUnixTimeMilliseconds(), (long)(value >> 80));
        }

        // Same millisecond for all, so only the 74 random bits tell them apart.
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DecisionIds.New(new Support.ManualTimeProvider(DateTimeOffset.UnixEpoch.AddMilliseconds(-1))));
    }

    private const string PinnedHash = "3400fd1a5cff13a035bd015747d054d245259e528b40c8a1f412d5338a7f83cd";
}
