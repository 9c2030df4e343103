using System.Globalization;
using Gatekeeper.Audit.Internal;
using Gatekeeper.Audit.Tests.Support;

namespace Gatekeeper.Audit.Tests;

/// <summary>Tampering is done with the real sqlite3 shell on a closed log; verify must name the first broken record.</summary>
public sealed class TamperTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<string> _ids = [];

    public void Dispose() => _dir.Dispose();

    private string DatabasePath => _dir.Options().DatabasePath;

    private async Task WriteLogAsync(int count = 12, int checkpointEvery = 1_000)
    {
        await using var log = new AuditLog(_dir.Options(o => o.CheckpointEveryRecords = checkpointEvery), new ListLogger(), TimeProvider.System);
        for (var i = 0; i < count; i++)
        {
            var record = Records.Sample(reason: "reason-" + i.ToString(CultureInfo.InvariantCulture));
            _ids.Add(record.DecisionId);
            await log.AppendAsync(record);
        }

        var clean = AuditVerifier.Verify(_dir.Data);
        Assert.True(clean.IsValid, clean.ToString());
    }

    private AuditVerificationProblem VerifyBroken()
    {
        var result = AuditVerifier.Verify(_dir.Data);
        Assert.False(result.IsValid, "tampering went undetected");
        return result.Problem!;
    }

    [Fact]
    public async Task Verify_ContentEditedWithSqlite3_NamesTheEditedRecord()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, "UPDATE audit_records SET decision = 'allow' WHERE seq = 5;");

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.ContentEdited, problem.Kind);
        Assert.Equal(5, problem.Sequence);
        Assert.Equal(_ids[4], problem.DecisionId);
    }

    [Fact]
    public async Task Verify_SharedTextEditedWithSqlite3_NamesTheRecordThatUsesIt()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, "UPDATE audit_texts SET text = 'reason-x' WHERE text = 'reason-4';");

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.ContentEdited, problem.Kind);
        Assert.Equal(5, problem.Sequence);
        Assert.Equal(_ids[4], problem.DecisionId);
    }

    [Fact]
    public async Task Verify_SharedTextDeletedWithSqlite3_NamesTheRecordThatUsedIt()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, "DELETE FROM audit_texts WHERE text = 'reason-6';");

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.ContentEdited, problem.Kind);
        Assert.Equal(7, problem.Sequence);
    }

    [Fact]
    public async Task Verify_RecordDeletedWithSqlite3_NamesTheGap()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, "DELETE FROM audit_records WHERE seq = 5;");

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.RecordDeleted, problem.Kind);
        Assert.Equal(6, problem.Sequence);
        Assert.Equal(_ids[5], problem.DecisionId);
        Assert.Contains("record 5 is missing", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_RecordDeletedAndRestRenumbered_IsDetectedByThePrevHash()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, """
            DELETE FROM audit_records WHERE seq = 5;
            UPDATE audit_records SET seq = -seq WHERE seq > 5;
            UPDATE audit_records SET seq = -seq - 1 WHERE seq < 0;
            """);

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.RecordDeleted, problem.Kind);
        Assert.Equal(5, problem.Sequence);
        Assert.Equal(_ids[5], problem.DecisionId);
    }

    [Fact]
    public async Task Verify_TwoRecordsSwappedWithSqlite3_ReportsReordered()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, """
            UPDATE audit_records SET seq = -1 WHERE seq = 5;
            UPDATE audit_records SET seq = 5 WHERE seq = 6;
            UPDATE audit_records SET seq = 6 WHERE seq = -1;
            """);

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.Reordered, problem.Kind);
        Assert.Equal(5, problem.Sequence);
        Assert.Equal(_ids[5], problem.DecisionId); // the record that now sits at 5 is the former 6th
    }

    [Fact]
    public async Task Verify_TailCutAfterACheckpoint_ReportsTruncated()
    {
        await WriteLogAsync(count: 12, checkpointEvery: 5);
        Sqlite3Cli.Run(DatabasePath, "DELETE FROM audit_records WHERE seq >= 8;");

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.Truncated, problem.Kind);
        Assert.Equal(10, problem.Sequence);
    }

    [Fact]
    public async Task Verify_ChainRecomputedAfterAnEdit_IsCaughtByTheSignedCheckpoint()
    {
        // An intruder who knows the format edits record 3 and recomputes every hash after it; only the signed
        // checkpoint (whose key they lack) can catch that.
        await WriteLogAsync(count: 12, checkpointEvery: 5);
        RewriteChainFrom(3, "allow");

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.CheckpointMismatch, problem.Kind);
        Assert.Equal(5, problem.Sequence);
    }

    [Fact]
    public async Task Verify_OldestRecordsDeletedWithoutASignedCut_ReportsDeleted()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, "DELETE FROM audit_records WHERE seq <= 4;");

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.RecordDeleted, problem.Kind);
        Assert.Equal(5, problem.Sequence);
        Assert.Contains("records 1..4 are missing", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_ForgedPurgeCut_ReportsForgedCut()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, """
            DELETE FROM audit_records WHERE seq <= 4;
            INSERT INTO audit_checkpoints (kind, seq, hash, time, mac)
                SELECT 'purge', 4, prev_hash, '2026-01-01T00:00:00.0000000Z', randomblob(32) FROM audit_records WHERE seq = 5;
            """);

        var problem = VerifyBroken();
        Assert.Equal(AuditTamperKind.ForgedCut, problem.Kind);
        Assert.Equal(4, problem.Sequence);
    }

    [Fact]
    public async Task AuditCli_VerifyOnTamperedLog_ExitsNonZeroAndNamesTheRecord()
    {
        await WriteLogAsync();
        Sqlite3Cli.Run(DatabasePath, "UPDATE audit_records SET recipient = 'media' WHERE seq = 7;");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = AuditCli.Run(["audit", "verify"], _dir.Data, stdout, stderr);

        Assert.Equal(AuditCli.ExitBroken, code);
        Assert.Contains("ContentEdited at sequence 7", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(_ids[6], stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditCli_VerifyOnIntactLog_ExitsZero()
    {
        await WriteLogAsync();
        var stdout = new StringWriter();

        var code = AuditCli.Run(["verify"], _dir.Data, stdout, new StringWriter());

        Assert.Equal(AuditCli.ExitOk, code);
        Assert.StartsWith("OK: 12 records verified", stdout.ToString(), StringComparison.Ordinal);
    }

    private void RewriteChainFrom(long fromSequence, string newDecision)
    {
        using var connection = AuditDb.Open(_dir.Options());
        using var transaction = connection.BeginTransaction();
        var rows = new List<(long Seq, string?[] Fields, byte[] Prev)>();
        using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = $"SELECT seq, {string.Join(", ", RecordFormat.Columns)}, prev_hash FROM {AuditStore.EntriesView} ORDER BY seq;";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var fields = new string?[RecordFormat.Columns.Length];
                for (var i = 0; i < fields.Length; i++)
                {
                    fields[i] = reader.GetString(i + 1);
                }

                rows.Add((reader.GetInt64(0), fields, (byte[])reader.GetValue(fields.Length + 1)));
            }
        }

        byte[]? prev = null;
        foreach (var (seq, fields, storedPrev) in rows)
        {
            if (seq < fromSequence)
            {
                continue;
            }

            prev ??= storedPrev;
            if (seq == fromSequence)
            {
                fields[RecordFormat.Decision] = newDecision;
            }

            var hash = RecordFormat.ChainHash(prev, RecordFormat.EncodeWithPrevSlot(fields));
            using var update = connection.CreateCommand();
            update.Transaction = transaction;
            update.CommandText = "UPDATE audit_records SET decision = $d, prev_hash = $p, hash = $h WHERE seq = $s;";
            update.Parameters.AddWithValue("$d", fields[RecordFormat.Decision]);
            update.Parameters.AddWithValue("$p", prev);
            update.Parameters.AddWithValue("$h", hash);
            update.Parameters.AddWithValue("$s", seq);
            update.ExecuteNonQuery();
            prev = hash;
        }

        transaction.Commit();
    }
}
