using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SQLitePCL;

namespace Gatekeeper.Audit.Internal;

/// <summary>
/// The few SQLite entry points the writer calls for every row, imported straight from the e_sqlite3 library that
/// SQLitePCLRaw has already loaded (same name, same process: the loader returns the same library). Through
/// SQLitePCLRaw each call took and released a reference on the statement's SafeHandle, pinned its span and went
/// through a marshalling stub: 22 times per row, on the single thread that limits the log under load. The binds
/// skip the GC transition too: each is a few dozen instructions on an uncontended statement that only the writer
/// thread uses, and never blocks. Step and reset keep it (a step may write pages and wait for I/O).
/// </summary>
internal static unsafe partial class SqliteNative
{
    private const string Library = "e_sqlite3";

    [LibraryImport(Library, EntryPoint = "sqlite3_bind_int64")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int BindInt64(IntPtr statement, int index, long value);

    /// <summary>
    /// Binds UTF-8 text without a copy (SQLITE_STATIC): the bytes must stay pinned until the statement has been
    /// stepped, and every parameter must be bound again before the next step.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "sqlite3_bind_text")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int BindText(IntPtr statement, int index, byte* text, int length, IntPtr destructor);

    /// <summary>Binds a blob without a copy (SQLITE_STATIC), under the same rules as <see cref="BindText"/>.</summary>
    [LibraryImport(Library, EntryPoint = "sqlite3_bind_blob")]
    [SuppressGCTransition]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int BindBlob(IntPtr statement, int index, byte* blob, int length, IntPtr destructor);

    [LibraryImport(Library, EntryPoint = "sqlite3_step")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int Step(IntPtr statement);

    [LibraryImport(Library, EntryPoint = "sqlite3_reset")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int Reset(IntPtr statement);

    /// <summary>SQLITE_STATIC: SQLite uses the caller's bytes in place and never frees them.</summary>
    public static IntPtr Static => IntPtr.Zero;

    /// <summary>
    /// Whether these imports reach the very library SQLitePCLRaw opened the connection with: both must return the same
    /// address for SQLite's source-id string, which lives in the library's own data. A statement handle passed to
    /// another copy of SQLite would corrupt memory, so the writer refuses to start instead (another SQLitePCLRaw
    /// bundle, or a second e_sqlite3 on the load path).
    /// </summary>
    public static bool IsSqlitePclRawLibrary()
    {
        fixed (byte* theirs = raw.sqlite3_sourceid())
        {
            return theirs == SourceId();
        }
    }

    [LibraryImport(Library, EntryPoint = "sqlite3_sourceid")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial byte* SourceId();
}
