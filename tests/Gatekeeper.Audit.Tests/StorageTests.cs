using Gatekeeper.Audit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Audit.Tests;

/// <summary>
/// The texts that repeat from one decision to the next are stored once in audit_texts and referenced by id; every
/// reader still sees whole records, and a restarted writer reuses the texts already stored.
/// </summary>
public sealed class StorageTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task RepeatedTexts_AreStoredOnce_AndReadBackWhole()
    {
        // Arrange
        var options = _dir.Options();

        // Act: 40 records that differ only in their id, request id and one of two reasons.
        await AppendAsync(options, 40);

        // Assert: caller, context, policy version, lawful basis, obligations, and the two reasons.
        Assert.Equal(7, AuditDb.Scalar(options, "SELECT count(*) FROM audit_texts;"));
        Assert.Equal(40, AuditDb.Scalar(options, "SELECT count(*) FROM audit_records;"));
        var entries = new AuditQuery(options).ReadAll(new AuditQueryFilter()).ToList();
        Assert.Equal(40, entries.Count);
        Assert.All(entries, e => Assert.Contains("DPA 2018 Sch1 Pt2 para 18", e.LawfulBasisJson, StringComparison.Ordinal));
        Assert.All(entries, e => Assert.Equal("10.0.0.7:51234", e.Caller));
        Assert.Equal(["reason-0", "reason-1"], entries.Select(e => e.Reason).Distinct().Order(StringComparer.Ordinal));
        Assert.True(AuditVerifier.Verify(options).IsValid);
    }

    [Fact]
    public async Task Reopened_ReusesTheStoredTexts_AndTheChainContinues()
    {
        // Arrange
        var options = _dir.Options();
        await AppendAsync(options, 5);

        // Act
        await AppendAsync(options, 5);

        // Assert
        Assert.Equal(7, AuditDb.Scalar(options, "SELECT count(*) FROM audit_texts;"));
        var result = AuditVerifier.Verify(options);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(10, result.RecordsChecked);
    }

    [Fact]
    public async Task LogOfAnotherSchemaVersion_IsRefusedWithAClearMessage()
    {
        // Arrange
        var options = _dir.Options();
        await AppendAsync(options, 1);
        AuditDb.Execute(options, "UPDATE audit_meta SET value = '1' WHERE key = 'schema_version';");

        // Act
        var error = Assert.Throws<InvalidOperationException>(() => new AuditLog(options, NullLogger.Instance, TimeProvider.System));

        // Assert
        Assert.Contains("schema version 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("new data directory", error.Message, StringComparison.Ordinal);
    }

    private static async Task AppendAsync(AuditOptions options, int count)
    {
        await using var log = new AuditLog(options, NullLogger.Instance, TimeProvider.System);
        for (var i = 0; i < count; i++)
        {
            // A new lawful-basis instance and new reason strings each time: texts are matched by content, not instance.
            await log.AppendAsync(Records.Sample(reason: "reason-" + (i % 2)));
        }
    }
}
