using System.Buffers.Binary;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Gatekeeper.Audit.Internal;

/// <summary>
/// The writer's INSERT, prepared once per connection on SQLite's own handle and bound by position straight from
/// the record's canonical encoding. The single writer's per-row CPU is what limits the log under load, and through
/// <see cref="SqliteCommand"/> each row paid for 20 parameter-name look-ups (sqlite3_bind_parameter_index, a linear
/// strncmp scan), 17 UTF-16 to UTF-8 transcodings of text that <see cref="RecordFormat.EncodeWithPrevSlot"/> had
/// already encoded, and a type switch and handle ref-count per value. The bytes bound are exactly the hashed bytes,
/// so what is stored is what the chain covers. Shared texts (<see cref="AuditStore.SharedTextColumns"/>) are bound
/// as the id of their row in <c>audit_texts</c>, inserted the first time a text is seen. Runs inside the writer's
/// transaction (same connection handle); a failed batch discards the connection and so this instance, whose
/// remembered ids may name rows that were rolled back.
/// </summary>
internal sealed class RecordInserter : IDisposable
{
    /// <summary>Ids remembered per connection; past this the memory starts again (distinct contexts are the only open-ended set).</summary>
    internal const int MaxRememberedTexts = 16_384;

    private const int SeqIndex = 1;
    private const int FirstFieldIndex = 2;
    private static readonly int PrevHashIndex = FirstFieldIndex + RecordFormat.Columns.Length;
    private static readonly int HashIndex = PrevHashIndex + 1;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _insertRecord;
    private readonly IntPtr _insertRecordHandle;
    private readonly sqlite3_stmt _findText;
    private readonly sqlite3_stmt _insertText;

    // Two memories of text -> id: by reference first (the service hands the same string instance for every answer of
    // a rule and every repeat of a context, so the lookup does not hash 400 characters), then by content.
    private readonly Dictionary<string, long> _byReference = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, long> _byContent = new(StringComparer.Ordinal);

    public RecordInserter(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The audit connection is not open.");
        if (!SqliteNative.IsSqlitePclRawLibrary())
        {
            throw new InvalidOperationException(
                $"The audit writer calls e_sqlite3 directly, but the connection was opened with another SQLite library ('{raw.GetNativeLibraryName()}').");
        }

        var columns = Enumerable.Range(0, RecordFormat.Columns.Length).Select(AuditStore.StoredColumn);
        var placeholders = string.Join(", ", Enumerable.Range(1, RecordFormat.Columns.Length + 3).Select(static i => "?" + i));
        try
        {
            _insertRecord = Prepare($"INSERT INTO audit_records (seq, {string.Join(", ", columns)}, prev_hash, hash) VALUES ({placeholders});");
            _insertRecordHandle = _insertRecord.DangerousGetHandle();
            _findText = Prepare("SELECT id FROM audit_texts WHERE text = ?1;");
            _insertText = Prepare("INSERT INTO audit_texts (text) VALUES (?1);");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Inserts one chained record; <paramref name="encoded"/> is the record's <see cref="PreparedRecord.Encoded"/>.</summary>
    /// <exception cref="SqliteException">The insert failed (SQLITE_FULL, SQLITE_IOERR, a constraint...).</exception>
    public unsafe void Insert(long sequence, string[] fields, byte[] encoded, byte[] prevHash, byte[] hash)
    {
        // Bound in place (no copy) from the pinned arrays, and stepped before they are unpinned. An empty text is
        // bound as a zero-length slice of the encoding: a null pointer would make it NULL, and the columns are NOT NULL.
        fixed (byte* record = encoded)
        fixed (byte* prev = prevHash)
        fixed (byte* own = hash)
        {
            var statement = _insertRecordHandle;
            Check(SqliteNative.BindInt64(statement, SeqIndex, sequence));
            var offset = RecordFormat.HashLength + RecordFormat.Magic.Length;
            for (var i = 0; i < RecordFormat.Columns.Length; i++)
            {
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(encoded.AsSpan(offset));
                offset += 4;
                Check(AuditStore.IsSharedText(i)
                    ? SqliteNative.BindInt64(statement, FirstFieldIndex + i, TextId(fields[i], encoded.AsSpan(offset, length)))
                    : SqliteNative.BindText(statement, FirstFieldIndex + i, record + offset, length, SqliteNative.Static));
                offset += length;
            }

            Check(SqliteNative.BindBlob(statement, PrevHashIndex, prev, prevHash.Length, SqliteNative.Static));
            Check(SqliteNative.BindBlob(statement, HashIndex, own, hash.Length, SqliteNative.Static));
            Step(statement);
        }
    }

    public void Dispose()
    {
        // Statements before the connection: a connection closed with a live statement lingers until it is finalised.
        _insertRecord?.Dispose();
        _findText?.Dispose();
        _insertText?.Dispose();
    }

    private long TextId(string text, ReadOnlySpan<byte> utf8)
    {
        if (_byReference.TryGetValue(text, out var id))
        {
            return id;
        }

        if (!_byContent.TryGetValue(text, out id))
        {
            id = FindOrInsertText(utf8);
            if (_byContent.Count >= MaxRememberedTexts)
            {
                _byContent.Clear();
                _byReference.Clear();
            }

            _byContent[text] = id;
        }

        if (_byReference.Count >= MaxRememberedTexts)
        {
            _byReference.Clear();
        }

        _byReference[text] = id;
        return id;
    }

    private long FindOrInsertText(ReadOnlySpan<byte> utf8)
    {
        BindText(_findText, utf8);
        var rc = raw.sqlite3_step(_findText);
        var found = rc == raw.SQLITE_ROW ? raw.sqlite3_column_int64(_findText, 0) : 0;
        raw.sqlite3_reset(_findText);
        if (rc == raw.SQLITE_ROW)
        {
            return found;
        }

        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        BindText(_insertText, utf8);
        Step(_insertText.DangerousGetHandle());
        return raw.sqlite3_last_insert_rowid(_db);
    }

    private void BindText(sqlite3_stmt statement, ReadOnlySpan<byte> utf8) =>
        Check(utf8.IsEmpty ? raw.sqlite3_bind_text(statement, 1, string.Empty) : raw.sqlite3_bind_text(statement, 1, utf8));

    // Statements are owned by this instance until Dispose, on the writer thread only: their handles cannot be released
    // while in use.
    private void Step(IntPtr statement)
    {
        var rc = SqliteNative.Step(statement);
        // Reset at once, also after an error: a statement left mid-step would keep the transaction from committing.
        SqliteNative.Reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    private sqlite3_stmt Prepare(string sql)
    {
        var rc = raw.sqlite3_prepare_v2(_db, sql, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement?.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return statement ?? throw new InvalidOperationException("SQLite prepared no statement for the audit insert.");
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
