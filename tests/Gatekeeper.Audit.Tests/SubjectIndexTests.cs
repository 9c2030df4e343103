using Gatekeeper.Audit.Internal;
using Gatekeeper.Audit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Audit.Tests;

/// <summary>
/// The log indexes subject_hmac only for records that name a subject (the writer saves an index insert on every
/// other record), and subject searches use that index.
/// </summary>
public sealed class SubjectIndexTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task NewLog_SubjectSearch_UsesThePartialIndexAndFindsThePerson()
    {
        // Arrange
        var options = _dir.Options();
        await AppendAsync(options, "subject-A", "", "subject-B", "subject-A", "");

        // Act
        var found = new AuditQuery(options).ReadAll(new AuditQueryFilter { Subject = "subject-A" }).ToList();

        // Assert
        Assert.Equal(2, found.Count);
        Assert.Equal([AuditStore.SubjectIndex], Indexes(options, "audit_records_subject%"));
        Assert.Equal(3, AuditDb.Scalar(options, $"SELECT count(*) FROM audit_records INDEXED BY {AuditStore.SubjectIndex} WHERE subject_hmac <> '';"));
        // The shape AuditQuery sends: the planner must pick the partial index, not scan the table.
        var plan = Plan(options, "SELECT seq FROM audit_records WHERE seq > 0 AND subject_hmac = 'x' AND subject_hmac <> '' ORDER BY seq LIMIT 10;");
        Assert.Contains(AuditStore.SubjectIndex, plan, StringComparison.Ordinal);
    }

    private static async Task AppendAsync(AuditOptions options, params string[] subjects)
    {
        await using var log = new AuditLog(options, NullLogger.Instance, TimeProvider.System);
        foreach (var subject in subjects)
        {
            await log.AppendAsync(Records.Sample(subject: subject));
        }
    }

    private static List<string> Indexes(AuditOptions options, string like)
    {
        using var connection = AuditDb.Open(options);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE $like ORDER BY name;";
        command.Parameters.AddWithValue("$like", like);
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static string Plan(AuditOptions options, string sql)
    {
        using var connection = AuditDb.Open(options);
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        using var reader = command.ExecuteReader();
        var plan = new List<string>();
        while (reader.Read())
        {
            plan.Add(reader.GetString(3));
        }

        return string.Join(" | ", plan);
    }
}
