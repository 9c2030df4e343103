using System.Text.Json;
using Gatekeeper.Audit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Audit.Tests;

/// <summary>The export is for people and tools: valid JSON Lines, with '+' and apostrophes written as themselves.</summary>
public sealed class ExportTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ExportJsonLines_PlusApostropheQuoteAndNonAscii_ReadableAndStillValidJson()
    {
        // Arrange
        var options = _dir.Options();
        var original = Records.Sample();
        var record = new AuditRecord
        {
            DecisionId = original.DecisionId,
            Category = original.Category,
            Recipient = original.Recipient,
            Purpose = original.Purpose,
            Decision = original.Decision,
            PolicyVersion = "2026-11-22.1+sha256:68ee4c250171c964",
            LawfulBasis = new AuditLawfulBasis("6(1)(e)", "9(2)(h)", "", ["Children's Act 1989 s17", "the \"Local Authority\" Act", "Café <b>"]),
            Reason = "line one\nline two",
        };
        await using (var log = new AuditLog(options, NullLogger.Instance, TimeProvider.System))
        {
            await log.AppendAsync(record);
        }

        using var output = new StringWriter();

        // Act
        var count = new AuditQuery(options).ExportJsonLines(new AuditQueryFilter(), output);

        // Assert
        Assert.Equal(1, count);
        var line = output.ToString().TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.Contains("\"policy_version\":\"2026-11-22.1+sha256:68ee4c250171c964\"", line, StringComparison.Ordinal);
        Assert.Contains("Children's Act 1989 s17", line, StringComparison.Ordinal);
        Assert.Contains("Café <b>", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0027", line, StringComparison.Ordinal);
        using var parsed = JsonDocument.Parse(line);
        var root = parsed.RootElement;
        Assert.Equal(record.PolicyVersion, root.GetProperty("policy_version").GetString());
        Assert.Equal(record.Reason, root.GetProperty("reason").GetString());
        Assert.Equal(record.LawfulBasis.Legislation, root.GetProperty("lawful_basis").GetProperty("legislation").EnumerateArray().Select(e => e.GetString()));
    }
}
