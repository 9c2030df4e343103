using System.Globalization;

namespace Gatekeeper.Protocol;

/// <summary>
/// The grpc-timeout header: at most 8 ASCII digits followed by a unit, H (hours), M (minutes), S (seconds),
/// m (milliseconds), u (microseconds) or n (nanoseconds).
/// </summary>
public static class GrpcTimeout
{
    private const int MaxDigits = 8;
    private const long MaxValue = 99_999_999;

    /// <summary>Parses a grpc-timeout value. Anything not of the form above returns false.</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out TimeSpan timeout)
    {
        timeout = default;
        if (value.Length < 2 || value.Length > MaxDigits + 1)
        {
            return false;
        }

        long amount = 0;
        var digits = value[..^1];
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            amount = (amount * 10) + (c - '0');
        }

        // 99,999,999 hours does not fit a TimeSpan; such a deadline is "never" for any practical purpose.
        var ticks = value[^1] switch
        {
            'H' => Multiply(amount, TimeSpan.TicksPerHour),
            'M' => Multiply(amount, TimeSpan.TicksPerMinute),
            'S' => Multiply(amount, TimeSpan.TicksPerSecond),
            'm' => Multiply(amount, TimeSpan.TicksPerMillisecond),
            'u' => Multiply(amount, TimeSpan.TicksPerMicrosecond),
            'n' => (amount + 99) / 100, // a tick is 100 ns; round up so that 1n is not "no time at all" forever
            _ => -1,
        };
        if (ticks < 0)
        {
            return false;
        }

        timeout = TimeSpan.FromTicks(ticks);
        return true;
    }

    /// <summary>
    /// Formats a timeout for the grpc-timeout header with the finest unit that fits in 8 digits, rounding up
    /// so that the receiver never sees a shorter deadline than the sender meant. A deadline already past is
    /// sent as 1n, which expires at once.
    /// </summary>
    public static string Format(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return "1n";
        }

        var ticks = timeout.Ticks;
        if (ticks <= MaxValue / 100)
        {
            return (ticks * 100).ToString(CultureInfo.InvariantCulture) + "n";
        }

        var micros = CeilDiv(ticks, TimeSpan.TicksPerMicrosecond);
        if (micros <= MaxValue)
        {
            return micros.ToString(CultureInfo.InvariantCulture) + "u";
        }

        var millis = CeilDiv(ticks, TimeSpan.TicksPerMillisecond);
        if (millis <= MaxValue)
        {
            return millis.ToString(CultureInfo.InvariantCulture) + "m";
        }

        var seconds = CeilDiv(ticks, TimeSpan.TicksPerSecond);
        if (seconds <= MaxValue)
        {
            return seconds.ToString(CultureInfo.InvariantCulture) + "S";
        }

        var minutes = CeilDiv(ticks, TimeSpan.TicksPerMinute);
        if (minutes <= MaxValue)
        {
            return minutes.ToString(CultureInfo.InvariantCulture) + "M";
        }

        return Math.Min(CeilDiv(ticks, TimeSpan.TicksPerHour), MaxValue).ToString(CultureInfo.InvariantCulture) + "H";
    }

    // Not (value + divisor - 1) / divisor: that overflows to a negative number near TimeSpan.MaxValue.
    private static long CeilDiv(long value, long divisor) => (value / divisor) + (value % divisor == 0 ? 0 : 1);

    private static long Multiply(long amount, long ticksPerUnit) =>
        amount > TimeSpan.MaxValue.Ticks / ticksPerUnit ? TimeSpan.MaxValue.Ticks : amount * ticksPerUnit;
}
