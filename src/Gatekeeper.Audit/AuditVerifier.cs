using System.Security.Cryptography;
using Gatekeeper.Audit.Internal;
using Microsoft.Data.Sqlite;

namespace Gatekeeper.Audit;

/// <summary>
/// Walks the hash chain from the signed purge cut (or genesis) to the head and reports the first broken
/// record. Reads one snapshot through a read-only connection, so it can run beside the live service.
/// </summary>
public static class AuditVerifier
{
    /// <summary>Verifies the log in a data directory, or at a database path (the key file is looked for next to it).</summary>
    public static AuditVerificationResult Verify(string dataDirectoryOrDatabasePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectoryOrDatabasePath);
        var directory = File.Exists(dataDirectoryOrDatabasePath)
            ? Path.GetDirectoryName(Path.GetFullPath(dataDirectoryOrDatabasePath))!
            : dataDirectoryOrDatabasePath;
        var options = new AuditOptions { DataDirectory = directory };
        return File.Exists(dataDirectoryOrDatabasePath)
            ? Verify(options, dataDirectoryOrDatabasePath)
            : Verify(options);
    }

    public static AuditVerificationResult Verify(AuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Verify(options, options.DatabasePath);
    }

    private static AuditVerificationResult Verify(AuditOptions options, string databasePath)
    {
        var key = AuditKey.Load(options, createIfMissing: false, logger: null);
        using var connection = AuditStore.OpenReader(databasePath);
        // One read transaction = one consistent snapshot, even while the writer keeps appending.
        using var transaction = connection.BeginTransaction(deferred: true);

        var cutSequence = 0L;
        var expectedPrev = RecordFormat.GenesisHash();
        if (AuditStore.ReadLatestPurge(connection, transaction) is { } cut)
        {
            if (key is null)
            {
                return Broken(AuditTamperKind.KeyMissing, cut.Sequence, "", "the log has a purge cut but no audit key was found to check its signature", 0, key);
            }

            if (!key.VerifyCheckpoint(AuditStore.PurgeCheckpoint, cut.Sequence, cut.Hash, cut.Mac))
            {
                return Broken(AuditTamperKind.ForgedCut, cut.Sequence, "", "the purge checkpoint's signature does not verify with the audit key", 0, key);
            }

            cutSequence = cut.Sequence;
            expectedPrev = cut.Hash;
        }

        var checkpoints = ReadCheckpoints(connection, transaction, cutSequence);
        var checkpointsChecked = 0;
        var expectedSequence = cutSequence + 1;
        var records = 0L;
        var fields = new string?[RecordFormat.Columns.Length];

        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText =
                $"SELECT seq, {string.Join(", ", RecordFormat.Columns)}, prev_hash, hash FROM {AuditStore.EntriesView} WHERE seq > $cut ORDER BY seq;";
            command.Parameters.AddWithValue("$cut", cutSequence);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var sequence = reader.GetInt64(0);
                for (var i = 0; i < fields.Length; i++)
                {
                    fields[i] = reader.IsDBNull(i + 1) ? null : reader.GetString(i + 1);
                }

                var prevHash = AsBytes(reader.GetValue(fields.Length + 1));
                var storedHash = AsBytes(reader.GetValue(fields.Length + 2));
                var decisionId = fields[RecordFormat.DecisionId] ?? "";

                // 1. Does the record still match its own hash? If not, its content (or hash) was edited.
                var computed = prevHash.Length == RecordFormat.HashLength
                    ? RecordFormat.ChainHash(prevHash, RecordFormat.EncodeWithPrevSlot(fields), independent: true)
                    : [];
                if (!CryptographicOperations.FixedTimeEquals(computed, storedHash))
                {
                    return Broken(AuditTamperKind.ContentEdited, sequence, decisionId,
                        "the record's content does not match its hash (a field was edited)", records, key);
                }

                // 2. Is it where it should be? A sequence gap means deleted records.
                if (sequence != expectedSequence)
                {
                    var missing = expectedSequence == sequence - 1
                        ? $"record {expectedSequence} is missing"
                        : $"records {expectedSequence}..{sequence - 1} are missing";
                    return Broken(AuditTamperKind.RecordDeleted, sequence, decisionId,
                        $"{missing} before this one (no signed purge cut covers them)", records, key);
                }

                // 3. Does it chain from its predecessor? If it chains from a record elsewhere, records were moved.
                if (!CryptographicOperations.FixedTimeEquals(prevHash, expectedPrev))
                {
                    var chainedAfter = FindSequenceByHash(connection, transaction, prevHash);
                    return chainedAfter is { } other
                        ? Broken(AuditTamperKind.Reordered, sequence, decisionId,
                            $"the record chains from the record now at sequence {other}, not from sequence {sequence - 1} (records were reordered)", records, key)
                        : Broken(AuditTamperKind.RecordDeleted, sequence, decisionId,
                            $"prev_hash does not match record {sequence - 1} nor any other record (a record was deleted and the rest renumbered, or replaced)", records, key);
                }

                // 4. Signed head checkpoints at this sequence must name this very hash.
                if (checkpoints.Remove(sequence, out var marks))
                {
                    foreach (var (hash, mac) in marks)
                    {
                        if (key is not null && !key.VerifyCheckpoint(AuditStore.PeriodicCheckpoint, sequence, hash, mac))
                        {
                            return Broken(AuditTamperKind.CheckpointMismatch, sequence, decisionId,
                                "the checkpoint at this sequence has an invalid signature", records, key);
                        }

                        if (!CryptographicOperations.FixedTimeEquals(hash, storedHash))
                        {
                            return Broken(AuditTamperKind.CheckpointMismatch, sequence, decisionId,
                                "the signed checkpoint at this sequence names a different hash (the chain was rewritten)", records, key);
                        }

                        checkpointsChecked++;
                    }
                }

                expectedPrev = storedHash;
                expectedSequence++;
                records++;
            }
        }

        var lastSequence = expectedSequence - 1;
        foreach (var (sequence, _) in checkpoints)
        {
            if (sequence > lastSequence)
            {
                return Broken(AuditTamperKind.Truncated, sequence, "",
                    $"a checkpoint names sequence {sequence} but the log ends at {lastSequence} (records were cut off the end)", records, key);
            }
        }

        return new AuditVerificationResult
        {
            RecordsChecked = records,
            CutSequence = cutSequence,
            LastSequence = lastSequence,
            HeadHash = Convert.ToHexStringLower(expectedPrev),
            CheckpointsChecked = checkpointsChecked,
            SignaturesChecked = key is not null,
        };
    }

    private static AuditVerificationResult Broken(
        AuditTamperKind kind, long sequence, string decisionId, string detail, long recordsChecked, AuditKey? key) =>
        new()
        {
            Problem = new AuditVerificationProblem(kind, sequence, decisionId, detail),
            RecordsChecked = recordsChecked,
            SignaturesChecked = key is not null,
        };

    private static Dictionary<long, List<(byte[] Hash, byte[] Mac)>> ReadCheckpoints(
        SqliteConnection connection, SqliteTransaction transaction, long afterSequence)
    {
        var checkpoints = new Dictionary<long, List<(byte[], byte[])>>();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT seq, hash, mac FROM audit_checkpoints WHERE kind = $kind AND seq > $after;";
        command.Parameters.AddWithValue("$kind", AuditStore.PeriodicCheckpoint);
        command.Parameters.AddWithValue("$after", afterSequence);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var sequence = reader.GetInt64(0);
            if (!checkpoints.TryGetValue(sequence, out var list))
            {
                checkpoints[sequence] = list = [];
            }

            list.Add((AsBytes(reader.GetValue(1)), AsBytes(reader.GetValue(2))));
        }

        return checkpoints;
    }

    private static long? FindSequenceByHash(SqliteConnection connection, SqliteTransaction transaction, byte[] hash)
    {
        // Full scan (hash is not indexed): it only runs once, on the first broken link.
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT seq FROM audit_records WHERE hash = $hash LIMIT 1;";
        command.Parameters.AddWithValue("$hash", hash);
        return command.ExecuteScalar() is long sequence ? sequence : null;
    }

    // A tampered column may no longer be a BLOB; anything else simply fails to match.
    private static byte[] AsBytes(object value) => value as byte[] ?? [];
}
