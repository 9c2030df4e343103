using System.Numerics;

namespace Gatekeeper.LoadTests;

/// <summary>
/// A log-linear histogram of nanosecond values in the manner of HdrHistogram: exact below 128 ns, then 64
/// buckets per power of two, so every recorded value is known to within 1/64 (about 1.6%) up to hours.
/// Recording is lock-free (one interlocked increment) so that many callers can share one histogram.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 7;
    private const int SubBucketCount = 1 << SubBucketBits;          // 128 exact values
    private const int SubBucketHalf = SubBucketCount / 2;           // 64 buckets per power of two above that
    private const int BucketCount = SubBucketCount + (64 - SubBucketBits) * SubBucketHalf;

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _sum;
    private long _max;
    private long _min = long.MaxValue;

    /// <summary>Values recorded.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>The largest value recorded, exactly (0 when empty).</summary>
    public long Max => Volatile.Read(ref _max);

    /// <summary>The smallest value recorded, exactly (0 when empty).</summary>
    public long Min => Count == 0 ? 0 : Volatile.Read(ref _min);

    /// <summary>The mean, exactly (0 when empty).</summary>
    public double Mean => Count == 0 ? 0 : (double)Volatile.Read(ref _sum) / Count;

    /// <summary>Records one value in nanoseconds; negative values count as 0.</summary>
    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(value)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, value);
        var max = Volatile.Read(ref _max);
        while (value > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }

        var min = Volatile.Read(ref _min);
        while (value < min)
        {
            var seen = Interlocked.CompareExchange(ref _min, value, min);
            if (seen == min)
            {
                break;
            }

            min = seen;
        }
    }

    /// <summary>
    /// The value at or below which <paramref name="percentile"/> % of the values lie: the highest value of that
    /// bucket (so never optimistic by more than the bucket width), capped at the exact maximum.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * total);
        rank = Math.Max(rank, 1);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(HighestEquivalentValue(i), Max);
            }
        }

        return Max;
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            var c = Volatile.Read(ref other._counts[i]);
            if (c != 0)
            {
                Interlocked.Add(ref _counts[i], c);
            }
        }

        Interlocked.Add(ref _count, other.Count);
        Interlocked.Add(ref _sum, Volatile.Read(ref other._sum));
        if (other.Count > 0)
        {
            _max = Math.Max(_max, other.Max);
            _min = Math.Min(_min, other.Min);
        }
    }

    /// <summary>Forgets every value (not safe while others record).</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        _count = 0;
        _sum = 0;
        _max = 0;
        _min = long.MaxValue;
    }

    internal static int IndexOf(long value)
    {
        if (value < SubBucketCount)
        {
            return (int)value;
        }

        // Keep the top 7 bits: value >> shift lies in [64, 128).
        var msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = msb - (SubBucketBits - 1);
        return ((shift + 1) * SubBucketHalf) + (int)((value >> shift) - SubBucketHalf);
    }

    internal static long HighestEquivalentValue(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }

        var shift = (index / SubBucketHalf) - 1;
        var mantissa = (long)((index % SubBucketHalf) + SubBucketHalf);
        return ((mantissa + 1) << shift) - 1;
    }
}
