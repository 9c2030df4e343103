using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Gatekeeper.LoadTests;

/// <summary>
/// Waits of microseconds for the generator's own threads. Spinning or yielding until the next arrival kept the
/// generator's core at 100% and its other threads waiting behind the spin, so the generator's lateness (send lag
/// p99 1.3 ms with an idle server at 16,000 calls/s) was larger than the latency being measured. A thread that
/// sleeps most of the time is also the one Linux runs first when it wakes. On Linux: clock_nanosleep and ppoll
/// with a 1 µs timer slack (the default 50 µs would be most of a gap at 20,000 calls/s); elsewhere Thread.Sleep(0).
/// </summary>
internal static partial class NativeWait
{
    public const short PollIn = 0x1;
    public const short PollOut = 0x4;

    private const int PrSetTimerSlack = 29;
    private const int ClockMonotonic = 1;

    /// <summary>Asks for a 1 µs timer slack on the calling thread (Linux); call once from the waiting thread.</summary>
    public static void UseFineTimerSlack()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = Prctl(PrSetTimerSlack, 1_000, 0, 0, 0);
        }
    }

    /// <summary>Sleeps for about <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks); early wake-ups are harmless.</summary>
    public static void Sleep(long ticks)
    {
        if (!OperatingSystem.IsLinux())
        {
            Thread.Sleep(0);
            return;
        }

        var request = TimeSpec.FromTicks(ticks);
        _ = ClockNanosleep(ClockMonotonic, 0, in request, IntPtr.Zero);
    }

    /// <summary>Waits up to <paramref name="ticks"/> for one of the sockets to be ready; fills each entry's <see cref="PollFd.Ready"/>. Linux only.</summary>
    public static void Poll(Span<PollFd> sockets, long ticks)
    {
        var timeout = TimeSpec.FromTicks(ticks);
        var rc = PPoll(ref MemoryMarshal.GetReference(sockets), (ulong)sockets.Length, in timeout, IntPtr.Zero);
        if (rc < 0 && Marshal.GetLastPInvokeError() != 4) // EINTR: a signal; the caller polls again
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Descriptor;
        public short Wanted;
        public short Ready;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;

        public static TimeSpec FromTicks(long ticks)
        {
            var nanos = (long)(Math.Max(0, ticks) * (1e9 / Stopwatch.Frequency));
            return new TimeSpec { Seconds = nanos / 1_000_000_000, Nanoseconds = nanos % 1_000_000_000 };
        }
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int ClockNanosleep(int clock, int flags, in TimeSpec request, IntPtr remaining);

    [LibraryImport("libc", EntryPoint = "ppoll", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int PPoll(ref PollFd sockets, ulong count, in TimeSpec timeout, IntPtr signalMask);

    [LibraryImport("libc", EntryPoint = "prctl")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
}
