using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gatekeeper.Audit.Internal;
using Microsoft.Data.Sqlite;

namespace Gatekeeper.Audit;

/// <summary>
/// Searches and exports the log through read-only connections (one per call), so it works beside the running
/// writer: WAL readers see a consistent snapshot and never block commits. Thread-safe.
/// </summary>
public sealed class AuditQuery
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1_000;

    // The export is read by people (and jq), not embedded in HTML: write '+' in "2026-11-22.1+sha256:..." and the
    // apostrophe in "Children's Act" as themselves, not as \u002B and \u0027. Still valid JSON: quotes,
    // backslashes and control characters are escaped as JSON requires.
    private static readonly JsonWriterOptions ExportWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _databasePath;
    private readonly AuditKey? _key;

    public AuditQuery(AuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _databasePath = options.DatabasePath;
        _key = AuditKey.Load(options, createIfMissing: false, logger: null);
    }

    /// <summary>Keyset pagination on the sequence number: stable while records are appended, O(page) per call.</summary>
    /// <exception cref="ArgumentException">Bad page size or page token.</exception>
    public AuditPage Query(AuditQueryFilter filter, int pageSize = DefaultPageSize, string? pageToken = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, MaxPageSize);
        var after = ParsePageToken(pageToken);

        using var connection = AuditStore.OpenReader(_databasePath);
        using var command = BuildCommand(connection, filter, after, pageSize + 1);
        using var reader = command.ExecuteReader();
        var entries = new List<AuditEntry>(Math.Min(pageSize, 64));
        var more = false;
        while (reader.Read())
        {
            if (entries.Count == pageSize)
            {
                more = true;
                break;
            }

            entries.Add(ReadEntry(reader));
        }

        var next = more ? entries[^1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
        return new AuditPage(entries, next);
    }

    /// <summary>Every matching record in sequence order, from one snapshot, streamed (for export).</summary>
    public IEnumerable<AuditEntry> ReadAll(AuditQueryFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var connection = AuditStore.OpenReader(_databasePath);
        using var command = BuildCommand(connection, filter, after: 0, limit: -1);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return ReadEntry(reader);
        }
    }

    /// <summary>Writes JSON Lines (one object per record) and returns the number written. Never the clear subject.</summary>
    public long ExportJsonLines(AuditQueryFilter filter, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var buffer = new ArrayBufferWriter<byte>(1024);
        var count = 0L;
        using var writer = new Utf8JsonWriter(buffer, ExportWriterOptions);
        foreach (var entry in ReadAll(filter))
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WriteJson(writer, entry);
            writer.Flush();
            output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
            output.Write('\n');
            count++;
        }

        output.Flush();
        return count;
    }

    internal static void WriteJson(Utf8JsonWriter writer, AuditEntry entry)
    {
        writer.WriteStartObject();
        writer.WriteString("decision_id", entry.DecisionId);
        writer.WriteNumber("seq", entry.Sequence);
        writer.WriteString("time", entry.TimeText);
        writer.WriteString("category", entry.Category);
        writer.WriteString("recipient", entry.Recipient);
        writer.WriteString("purpose", entry.Purpose);
        writer.WriteString("decision", entry.Decision);
        writer.WriteString("rule_id", entry.RuleId);
        writer.WriteString("policy_version", entry.PolicyVersion);
        WriteJsonOrString(writer, "lawful_basis", entry.LawfulBasisJson);
        WriteJsonOrString(writer, "obligations", entry.ObligationsJson);
        writer.WriteString("reason", entry.Reason);
        WriteJsonOrString(writer, "context", entry.ContextJson);
        writer.WriteString("caller", entry.Caller);
        writer.WriteString("request_id", entry.RequestId);
        writer.WriteString("from_cache", entry.FromCache);
        writer.WriteString("trace_id", entry.TraceId);
        writer.WriteString("subject_hmac", entry.SubjectHmac);
        writer.WriteString("prev_hash", entry.PrevHash);
        writer.WriteString("hash", entry.Hash);
        writer.WriteEndObject();
    }

    // Stored JSON columns are embedded as JSON; if someone broke one by hand, export it as text rather than stop.
    private static void WriteJsonOrString(Utf8JsonWriter writer, string name, string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            writer.WritePropertyName(name);
            document.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            writer.WriteString(name, json);
        }
    }

    private SqliteCommand BuildCommand(SqliteConnection connection, AuditQueryFilter filter, long after, int limit)
    {
        var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT seq, ")
            .Append(string.Join(", ", RecordFormat.Columns))
            .Append(", prev_hash, hash FROM ").Append(AuditStore.EntriesView).Append(" WHERE seq > $after");
        command.Parameters.AddWithValue("$after", after);
        if (filter.From is { } from)
        {
            sql.Append(" AND time >= $from");
            command.Parameters.AddWithValue("$from", RecordFormat.FormatTime(from));
        }

        if (filter.To is { } to)
        {
            sql.Append(" AND time < $to");
            command.Parameters.AddWithValue("$to", RecordFormat.FormatTime(to));
        }

        AddEquals(command, sql, "recipient", filter.Recipient);
        AddEquals(command, sql, "category", filter.Category);
        AddEquals(command, sql, "purpose", filter.Purpose);
        AddEquals(command, sql, "decision", filter.Decision);
        AddEquals(command, sql, "decision_id", filter.DecisionId);
        if (filter.Subject is { } subject)
        {
            if (_key is null)
            {
                command.Dispose();
                throw new InvalidOperationException("Searching by subject needs the audit key, and none was found.");
            }

            var hmac = _key.HashSubject(subject);
            AddEquals(command, sql, "subject_hmac", hmac);
            if (hmac.Length != 0)
            {
                // Implied by the equality, but SQLite needs it spelled out to use the partial subject index.
                sql.Append(" AND subject_hmac <> ''");
            }
        }

        sql.Append(" ORDER BY seq");
        if (limit > 0)
        {
            sql.Append(" LIMIT $limit");
            command.Parameters.AddWithValue("$limit", limit);
        }

        command.CommandText = sql.Append(';').ToString();
        return command;
    }

    private static void AddEquals(SqliteCommand command, StringBuilder sql, string column, string? value)
    {
        if (value is null)
        {
            return;
        }

        sql.Append(" AND ").Append(column).Append(" = $").Append(column);
        command.Parameters.AddWithValue("$" + column, value);
    }

    private static AuditEntry ReadEntry(SqliteDataReader reader)
    {
        string Field(int index) => reader.IsDBNull(index + 1) ? "" : reader.GetString(index + 1);
        var timeText = Field(RecordFormat.Time);
        DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time);
        var columns = RecordFormat.Columns.Length;
        return new AuditEntry
        {
            Sequence = reader.GetInt64(0),
            DecisionId = Field(RecordFormat.DecisionId),
            Time = time,
            TimeText = timeText,
            Caller = Field(RecordFormat.Caller),
            RequestId = Field(RecordFormat.RequestId),
            Category = Field(RecordFormat.Category),
            Recipient = Field(RecordFormat.Recipient),
            Purpose = Field(RecordFormat.Purpose),
            ContextJson = Field(RecordFormat.Context),
            Decision = Field(RecordFormat.Decision),
            RuleId = Field(RecordFormat.RuleId),
            PolicyVersion = Field(RecordFormat.PolicyVersion),
            LawfulBasisJson = Field(RecordFormat.LawfulBasis),
            ObligationsJson = Field(RecordFormat.Obligations),
            Reason = Field(RecordFormat.Reason),
            FromCache = Field(RecordFormat.FromCache),
            TraceId = Field(RecordFormat.TraceId),
            SubjectHmac = Field(RecordFormat.SubjectHmac),
            PrevHash = reader.GetValue(columns + 1) is byte[] prev ? Convert.ToHexStringLower(prev) : "",
            Hash = reader.GetValue(columns + 2) is byte[] hash ? Convert.ToHexStringLower(hash) : "",
        };
    }

    private static long ParsePageToken(string? pageToken)
    {
        if (string.IsNullOrEmpty(pageToken))
        {
            return 0;
        }

        return long.TryParse(pageToken, NumberStyles.None, CultureInfo.InvariantCulture, out var after) && after >= 0
            ? after
            : throw new ArgumentException("Invalid page token.", nameof(pageToken));
    }
}
