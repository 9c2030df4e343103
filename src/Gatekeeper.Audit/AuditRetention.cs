using Gatekeeper.Audit.Internal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Audit;

/// <summary>Result of <see cref="AuditRetention.Purge"/>.</summary>
public sealed record AuditPurgeResult(long DeletedRecords, long CutSequence);

/// <summary>
/// Deletes the oldest records (a prefix of the chain) and, in the same transaction, writes a purge checkpoint
/// signed with the audit key over the cut sequence and the hash of the last deleted record. Verification then
/// starts from the signed cut, so the remaining chain still verifies and a cut made without the key does not.
/// </summary>
public static class AuditRetention
{
    /// <summary>Rows per transaction: keeps the write lock short so the live writer's batches are not held up.</summary>
    private const int ChunkSize = 5_000;

    /// <summary>
    /// Deletes records older than <paramref name="before"/>, stopping at the first record that is not (the cut is
    /// always a prefix, so a late-stamped record keeps everything after it). Safe while the service runs.
    /// </summary>
    public static AuditPurgeResult Purge(AuditOptions options, DateTimeOffset before, ILogger logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (!File.Exists(options.DatabasePath))
        {
            throw new FileNotFoundException($"No audit log at '{options.DatabasePath}'.", options.DatabasePath);
        }

        var key = AuditKey.Load(options, createIfMissing: false, logger)
            ?? throw new InvalidOperationException("Purging needs the audit key to sign the cut, and none was found.");
        var cutText = RecordFormat.FormatTime(before);
        var deleted = 0L;
        var cutSequence = 0L;
        using var connection = AuditStore.OpenWriter(options.DatabasePath);
        // Also refuses a key that is not the log's own, so a cut is never signed with the wrong key.
        AuditStore.EnsureSchema(connection, key);
        while (true)
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            var (end, endHash, count) = FindChunkEnd(connection, transaction, cutText);
            if (count == 0)
            {
                break;
            }

            using (var delete = connection.CreateCommand())
            {
                delete.Transaction = transaction;
                delete.CommandText = "DELETE FROM audit_records WHERE seq <= $end;";
                delete.Parameters.AddWithValue("$end", end);
                deleted += delete.ExecuteNonQuery();
            }

            AuditStore.InsertCheckpoint(connection, transaction, key, AuditStore.PurgeCheckpoint, end, endHash!, timeProvider.GetUtcNow());
            transaction.Commit();
            cutSequence = end;
        }

        if (deleted > 0)
        {
            AuditLogMessages.Purged(logger, deleted, cutSequence);
        }

        return new AuditPurgeResult(deleted, cutSequence);
    }

    private static (long End, byte[]? EndHash, int Count) FindChunkEnd(SqliteConnection connection, SqliteTransaction transaction, string cutText)
    {
        // Walk from the oldest record in sequence order: O(chunk), whereas "min seq with time >= cut" would scan
        // every record being kept.
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT seq, time, hash FROM audit_records ORDER BY seq LIMIT $chunk;";
        command.Parameters.AddWithValue("$chunk", ChunkSize);
        using var reader = command.ExecuteReader();
        var end = 0L;
        byte[]? endHash = null;
        var count = 0;
        while (reader.Read())
        {
            if (string.CompareOrdinal(reader.GetString(1), cutText) >= 0)
            {
                break;
            }

            end = reader.GetInt64(0);
            endHash = (byte[])reader.GetValue(2);
            count++;
        }

        return (end, endHash, count);
    }
}
