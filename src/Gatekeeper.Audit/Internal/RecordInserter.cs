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
/// so what is stored is what the chain covers. Runs inside the writer's transaction (same connection handle).
/// </summary>
internal sealed class RecordInserter : IDisposable
{
    private const int SeqIndex = 1;
    private const int FirstFieldIndex = 2;
    private static readonly int PrevHashIndex = FirstFieldIndex + RecordFormat.Columns.Length;
    private static readonly int HashIndex = PrevHashIndex + 1;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public RecordInserter(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The audit connection is not open.");
        var columns = RecordFormat.Columns;
        var placeholders = string.Join(", ", Enumerable.Range(1, columns.Length + 3).Select(static i => "?" + i));
        var sql = $"INSERT INTO audit_records (seq, {string.Join(", ", columns)}, prev_hash, hash) VALUES ({placeholders});";
        var rc = raw.sqlite3_prepare_v2(_db, sql, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement?.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        _statement = statement ?? throw new InvalidOperationException("SQLite prepared no statement for the audit insert.");
    }

    /// <summary>Inserts one chained record; <paramref name="encoded"/> is the record's <see cref="PreparedRecord.Encoded"/>.</summary>
    /// <exception cref="SqliteException">The insert failed (SQLITE_FULL, SQLITE_IOERR, a constraint...).</exception>
    public void Insert(long sequence, byte[] encoded, byte[] prevHash, byte[] hash)
    {
        Check(raw.sqlite3_bind_int64(_statement, SeqIndex, sequence));
        var offset = RecordFormat.HashLength + RecordFormat.Magic.Length;
        for (var i = 0; i < RecordFormat.Columns.Length; i++)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(encoded.AsSpan(offset));
            offset += 4;
            // An empty span has no address, and SQLite reads a null pointer as NULL; the columns are NOT NULL text.
            Check(length == 0
                ? raw.sqlite3_bind_text(_statement, FirstFieldIndex + i, string.Empty)
                : raw.sqlite3_bind_text(_statement, FirstFieldIndex + i, encoded.AsSpan(offset, length)));
            offset += length;
        }

        Check(raw.sqlite3_bind_blob(_statement, PrevHashIndex, prevHash));
        Check(raw.sqlite3_bind_blob(_statement, HashIndex, hash));
        var rc = raw.sqlite3_step(_statement);
        // Reset at once, also after an error: a statement left mid-step would keep the transaction from committing.
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }
}
