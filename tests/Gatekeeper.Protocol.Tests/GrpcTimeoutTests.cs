using Gatekeeper.Protocol;

namespace Gatekeeper.Protocol.Tests;

public sealed class GrpcTimeoutTests
{
    [Theory]
    [InlineData("1H", 36_000_000_000L)]
    [InlineData("2M", 1_200_000_000L)]
    [InlineData("3S", 30_000_000L)]
    [InlineData("250m", 2_500_000L)]
    [InlineData("7u", 70L)]
    [InlineData("100n", 1L)]
    [InlineData("1n", 1L)]
    [InlineData("0S", 0L)]
    [InlineData("99999999S", 999_999_990_000_000L)]
    [InlineData("00000001m", 10_000L)]
    public void TryParse_ValidValue_ReturnsTimeout(string value, long expectedTicks)
    {
        Assert.True(GrpcTimeout.TryParse(value, out var timeout));
        Assert.Equal(expectedTicks, timeout.Ticks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("1")]
    [InlineData("10")]
    [InlineData("123456789S")] // nine digits
    [InlineData("1s")] // lower-case s is not a unit
    [InlineData("1h")]
    [InlineData("1x")]
    [InlineData("-1S")]
    [InlineData("+1S")]
    [InlineData(" 1S")]
    [InlineData("1 S")]
    [InlineData("1.5S")]
    [InlineData("\u0661S")] // ARABIC-INDIC DIGIT ONE
    [InlineData("\uFF11S")] // FULLWIDTH DIGIT ONE
    [InlineData("1\u00B5")] // micro sign is not 'u'
    public void TryParse_HostileValue_ReturnsFalse(string value)
    {
        Assert.False(GrpcTimeout.TryParse(value, out var timeout));
        Assert.Equal(TimeSpan.Zero, timeout);
    }

    [Fact]
    public void TryParse_LargestHours_DoesNotOverflow()
    {
        Assert.True(GrpcTimeout.TryParse("99999999H", out var timeout));
        Assert.Equal(TimeSpan.FromHours(99_999_999), timeout);
    }

    [Theory]
    [InlineData(1L, "100n")]
    [InlineData(999_999L, "99999900n")]
    [InlineData(1_000_000L, "100000u")]
    [InlineData(1_000_001L, "100001u")] // 100000.1 us rounds up
    [InlineData(999_999_990L, "99999999u")]
    [InlineData(999_999_991L, "100000m")]
    public void Format_Ticks_UsesFinestUnitThatFits(long ticks, string expected) =>
        Assert.Equal(expected, GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));

    [Fact]
    public void Format_OneSecond_IsExact()
    {
        var text = GrpcTimeout.Format(TimeSpan.FromSeconds(1));
        Assert.Equal("1000000u", text);
    }

    [Fact]
    public void Format_OneDay_FitsEightDigits()
    {
        var text = GrpcTimeout.Format(TimeSpan.FromDays(1));
        Assert.Equal("86400000m", text);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void Format_ZeroOrNegative_IsOneNanosecond(long ticks) =>
        Assert.Equal("1n", GrpcTimeout.Format(TimeSpan.FromTicks(ticks)));

    [Fact]
    public void Format_InfiniteTimeSpan_IsOneNanosecond() =>
        // Timeout.InfiniteTimeSpan is -1 ms: callers must treat "infinite" as "no deadline" before formatting.
        Assert.Equal("1n", GrpcTimeout.Format(Timeout.InfiniteTimeSpan));

    [Fact]
    public void Format_MaxValue_IsLargestHoursNotNegative()
    {
        var text = GrpcTimeout.Format(TimeSpan.MaxValue);
        Assert.Equal("99999999H", text);
    }

    [Theory]
    [InlineData(long.MaxValue - 1)]
    [InlineData(long.MaxValue - 9)]
    [InlineData(4_000_000_000_000_000_000L)]
    [InlineData(360_000_000_000_000_000L)]
    public void Format_HugeValue_IsValidHeader(long ticks)
    {
        var text = GrpcTimeout.Format(TimeSpan.FromTicks(ticks));
        Assert.True(GrpcTimeout.TryParse(text, out _), text);
        Assert.DoesNotContain('-', text);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(12_345L)]
    [InlineData(10_000_000L)]
    [InlineData(123_456_789L)]
    [InlineData(36_000_000_000L)]
    [InlineData(864_000_000_000_123L)]
    public void FormatThenParse_AnyValue_NeverShortensTheDeadline(long ticks)
    {
        var timeout = TimeSpan.FromTicks(ticks);
        Assert.True(GrpcTimeout.TryParse(GrpcTimeout.Format(timeout), out var parsed));
        Assert.True(parsed >= timeout, $"{parsed} < {timeout}");
    }
}
