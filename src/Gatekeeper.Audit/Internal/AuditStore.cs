using Microsoft.Data.Sqlite;

namespace Gatekeeper.Audit.Internal;

/// <summary>Opening connections, the schema, and the few queries shared by the writer, verifier and purge.</summary>
internal static class AuditStore
{
    public const string PeriodicCheckpoint = "periodic";
    public const string PurgeCheckpoint = "purge";
    public const string SchemaVersion = "2";

    /// <summary>
    /// Partial index on subject_hmac for records that name a subject. A query uses it only when its WHERE clause
    /// says <c>subject_hmac &lt;&gt; ''</c> literally (SQLite cannot infer that from a bound parameter).
    /// </summary>
    public const string SubjectIndex = "audit_records_subject_given";

    /// <summary>
    /// The logical record, one row per decision with every field as text: what the verifier, the query, the export
    /// and anyone with the sqlite3 CLI read. <c>audit_records</c> is the stored row.
    /// </summary>
    public const string EntriesView = "audit_entries";

    /// <summary>
    /// Record columns stored once in <c>audit_texts</c> and referenced by id: the long texts that repeat from one
    /// decision to the next (the rule's lawful basis, obligations and reason, the policy version, the caller, the
    /// context). Stored inline they were four fifths of every row, and every byte of a row is written to the WAL,
    /// fsynced and later copied into the database by the single writer that limits the log under load.
    /// </summary>
    public static readonly int[] SharedTextColumns =
    [
        RecordFormat.Caller, RecordFormat.Context, RecordFormat.PolicyVersion, RecordFormat.LawfulBasis,
        RecordFormat.Obligations, RecordFormat.Reason,
    ];

    // Indexed by field: the writer asks for every field of every record.
    private static readonly bool[] SharedText = [.. Enumerable.Range(0, RecordFormat.Columns.Length).Select(SharedTextColumns.Contains)];

    /// <summary>Whether a record field (a <see cref="RecordFormat"/> column index) is stored in <c>audit_texts</c>.</summary>
    public static bool IsSharedText(int field) => SharedText[field];

    /// <summary>The stored column of a record field: its own name, or <c>name_ref</c> for a shared text.</summary>
    public static string StoredColumn(int field) =>
        IsSharedText(field) ? RecordFormat.Columns[field] + "_ref" : RecordFormat.Columns[field];

    private static readonly string Schema = $"""
        CREATE TABLE IF NOT EXISTS audit_meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS audit_texts (
            id    INTEGER PRIMARY KEY,
            text  TEXT NOT NULL UNIQUE
        );
        CREATE TABLE IF NOT EXISTS audit_records (
            seq                INTEGER PRIMARY KEY,
            decision_id        TEXT NOT NULL,
            time               TEXT NOT NULL,
            caller_ref         INTEGER NOT NULL,
            request_id         TEXT NOT NULL,
            category           TEXT NOT NULL,
            recipient          TEXT NOT NULL,
            purpose            TEXT NOT NULL,
            context_ref        INTEGER NOT NULL,
            decision           TEXT NOT NULL,
            rule_id            TEXT NOT NULL,
            policy_version_ref INTEGER NOT NULL,
            lawful_basis_ref   INTEGER NOT NULL,
            obligations_ref    INTEGER NOT NULL,
            reason_ref         INTEGER NOT NULL,
            from_cache         TEXT NOT NULL,
            trace_id           TEXT NOT NULL,
            subject_hmac       TEXT NOT NULL,
            prev_hash          BLOB NOT NULL,
            hash               BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time);
        CREATE INDEX IF NOT EXISTS audit_records_decision_id ON audit_records (decision_id);
        CREATE INDEX IF NOT EXISTS {SubjectIndex} ON audit_records (subject_hmac) WHERE subject_hmac <> '';
        {EntriesViewSql()}
        CREATE TABLE IF NOT EXISTS audit_checkpoints (
            id    INTEGER PRIMARY KEY,
            kind  TEXT NOT NULL,
            seq   INTEGER NOT NULL,
            hash  BLOB NOT NULL,
            time  TEXT NOT NULL,
            mac   BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS audit_checkpoints_kind_seq ON audit_checkpoints (kind, seq);
        """;

    // LEFT JOIN: a shared text deleted by hand reads as NULL, which the verifier reports as an edited record (an
    // inner join would hide the record and make the edit look like a deletion).
    private static string EntriesViewSql()
    {
        var select = new List<string> { "r.seq" };
        var joins = new List<string>();
        for (var i = 0; i < RecordFormat.Columns.Length; i++)
        {
            var name = RecordFormat.Columns[i];
            if (IsSharedText(i))
            {
                select.Add($"t_{name}.text AS {name}");
                joins.Add($"LEFT JOIN audit_texts t_{name} ON t_{name}.id = r.{name}_ref");
            }
            else
            {
                select.Add($"r.{name}");
            }
        }

        select.Add("r.prev_hash");
        select.Add("r.hash");
        return $"CREATE VIEW IF NOT EXISTS {EntriesView} AS SELECT {string.Join(", ", select)} FROM audit_records r {string.Join(" ", joins)};";
    }

    /// <summary>
    /// The writer's connection. Durability argument:
    /// <list type="bullet">
    /// <item>journal_mode=WAL: a commit appends frames to the -wal file and never rewrites the database in place,
    /// and readers (export, verify, the admin query) keep a consistent snapshot while the writer carries on.</item>
    /// <item>synchronous=FULL: in WAL mode SQLite then fsyncs the WAL after writing each commit frame, before
    /// COMMIT returns, so a committed transaction survives kill -9 AND power loss. With NORMAL the WAL is
    /// only synced at checkpoints: a commit survives kill -9 (it is in the OS page cache) but the last ones can
    /// be lost on power loss, which would break "every answer is logged". Group commit pays one fsync per batch.</item>
    /// <item>The directory is fsynced once after creation (see <see cref="DirectorySync"/>); SQLite itself syncs
    /// the directory when it creates the -wal file.</item>
    /// <item>Pooling=False: closing really closes the file, so that after an I/O error the writer reopens
    /// from scratch and re-reads the chain head from disk.</item>
    /// </list>
    /// </summary>
    public static SqliteConnection OpenWriter(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 10,
        }.ToString());
        try
        {
            connection.Open();
            var mode = ExecuteScalar(connection, "PRAGMA journal_mode=WAL;") as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"The audit store could not switch to WAL mode (got '{mode}').");
            }

            Execute(connection, "PRAGMA synchronous=FULL;");
            // The purge command may hold the write lock for one chunk; wait for it rather than fail a batch.
            Execute(connection, "PRAGMA busy_timeout=10000;");
            // Bound the WAL file after a burst; the default auto-checkpoint (1000 pages) keeps it short normally.
            Execute(connection, "PRAGMA journal_size_limit=67108864;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Read-only snapshot connection: works beside a running writer because WAL readers never block it.</summary>
    public static SqliteConnection OpenReader(string databasePath)
    {
        if (!File.Exists(databasePath))
        {
            throw new FileNotFoundException($"No audit log at '{databasePath}'.", databasePath);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 10,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout=10000;");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static void EnsureSchema(SqliteConnection connection, AuditKey key)
    {
        using var transaction = connection.BeginTransaction();
        Execute(connection, Schema, transaction);
        var storedVersion = GetMeta(connection, transaction, "schema_version");
        if (storedVersion is null)
        {
            SetMeta(connection, transaction, "schema_version", SchemaVersion);
        }
        else if (storedVersion != SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The audit store has schema version {storedVersion}; this build reads {SchemaVersion}. Keep the old log (and its key) with the build that wrote it, and start this one on a new data directory.");
        }

        var storedKeyId = GetMeta(connection, transaction, "key_id");
        if (storedKeyId is null)
        {
            SetMeta(connection, transaction, "key_id", key.Id);
        }
        else if (storedKeyId != key.Id)
        {
            throw new InvalidOperationException(
                $"The audit key (id {key.Id}) is not the key this log was written with (id {storedKeyId}); subject searches and checkpoint signatures would fail.");
        }

        transaction.Commit();
    }

    /// <summary>The chain head: the last record, else the latest purge cut, else genesis.</summary>
    public static (long Sequence, byte[] Hash) ReadHead(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1;";
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                return (reader.GetInt64(0), (byte[])reader.GetValue(1));
            }
        }

        var cut = ReadLatestPurge(connection, transaction);
        return cut is { } c ? (c.Sequence, c.Hash) : (0, RecordFormat.GenesisHash());
    }

    public static (long Sequence, byte[] Hash, byte[] Mac)? ReadLatestPurge(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT seq, hash, mac FROM audit_checkpoints WHERE kind = $kind ORDER BY seq DESC LIMIT 1;";
        command.Parameters.AddWithValue("$kind", PurgeCheckpoint);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? (reader.GetInt64(0), (byte[])reader.GetValue(1), (byte[])reader.GetValue(2))
            : null;
    }

    public static void InsertCheckpoint(
        SqliteConnection connection, SqliteTransaction transaction, AuditKey key, string kind, long sequence, byte[] hash, DateTimeOffset now)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO audit_checkpoints (kind, seq, hash, time, mac) VALUES ($kind, $seq, $hash, $time, $mac);";
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$seq", sequence);
        command.Parameters.AddWithValue("$hash", hash);
        command.Parameters.AddWithValue("$time", RecordFormat.FormatTime(now));
        command.Parameters.AddWithValue("$mac", key.SignCheckpoint(kind, sequence, hash));
        command.ExecuteNonQuery();
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? ExecuteScalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static string? GetMeta(SqliteConnection connection, SqliteTransaction transaction, string key)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM audit_meta WHERE key = $key;";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    private static void SetMeta(SqliteConnection connection, SqliteTransaction transaction, string key, string value)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO audit_meta (key, value) VALUES ($key, $value);";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.ExecuteNonQuery();
    }
}
