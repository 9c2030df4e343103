using System.Numerics;

namespace Gatekeeper.Policy.Internal;

/// <summary>Fixed-size bitsets over vocabulary indexes, for compile-time set algebra.</summary>
internal static class Bits
{
    public static ulong[] Create(int count) => new ulong[(count + 63) >> 6];

    public static void Set(ulong[] bits, int index) => bits[index >> 6] |= 1UL << (index & 63);

    public static void Clear(ulong[] bits, int index) => bits[index >> 6] &= ~(1UL << (index & 63));

    public static bool Has(ulong[] bits, int index) => (bits[index >> 6] & (1UL << (index & 63))) != 0;

    public static void SetAll(ulong[] bits, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Set(bits, i);
        }
    }

    public static bool IsSubset(ulong[] a, ulong[] b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if ((a[i] & ~b[i]) != 0)
            {
                return false;
            }
        }

        return true;
    }

    public static int Count(ulong[] bits)
    {
        int n = 0;
        foreach (var w in bits)
        {
            n += BitOperations.PopCount(w);
        }

        return n;
    }

    public static int First(ulong[] bits)
    {
        for (int i = 0; i < bits.Length; i++)
        {
            if (bits[i] != 0)
            {
                return (i << 6) + BitOperations.TrailingZeroCount(bits[i]);
            }
        }

        return -1;
    }

    public static List<int> Indexes(ulong[] bits)
    {
        var list = new List<int>();
        for (int i = 0; i < bits.Length; i++)
        {
            ulong w = bits[i];
            while (w != 0)
            {
                list.Add((i << 6) + BitOperations.TrailingZeroCount(w));
                w &= w - 1;
            }
        }

        return list;
    }
}

/// <summary>
/// Layout of the context mask. Each of the five groups has one bit per value. A query sets exactly
/// one bit per group; a rule sets the bits it accepts (all of a group when it does not care). So a
/// rule's context conditions hold exactly when <c>PopCount(rule &amp; query) == GroupCount</c>: one
/// AND and one POPCNT instead of five comparisons.
/// </summary>
internal static class ContextBits
{
    public const int GroupCount = 5;

    public const int FormShift = 0;      // identifiable, pseudonymised, anonymised
    public const int ConsentShift = 3;   // unknown, given, refused, withdrawn
    public const ulong RequestFalse = 1UL << 7;
    public const ulong RequestTrue = 1UL << 8;
    public const ulong MinorFalse = 1UL << 9;
    public const ulong MinorTrue = 1UL << 10;
    public const ulong MinorUnknown = 1UL << 11;
    public const ulong DestinationUk = 1UL << 12;
    public const ulong DestinationAbroad = 1UL << 13;

    public const ulong FormMask = 0b111UL << FormShift;
    public const ulong ConsentMask = 0b1111UL << ConsentShift;
    public const ulong RequestMask = RequestFalse | RequestTrue;
    public const ulong MinorMask = MinorFalse | MinorTrue | MinorUnknown;
    public const ulong DestinationMask = DestinationUk | DestinationAbroad;
    public const ulong All = FormMask | ConsentMask | RequestMask | MinorMask | DestinationMask;

    public static readonly string[] FormNames = ["identifiable", "pseudonymised", "anonymised"];
    public static readonly string[] ConsentNames = ["unknown", "given", "refused", "withdrawn"];
    public static readonly string[] MinorNames = ["false", "true", "unknown"];
}
