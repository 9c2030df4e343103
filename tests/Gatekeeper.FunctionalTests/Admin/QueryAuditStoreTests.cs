using Gatekeeper.Audit;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.FunctionalTests.Admin;

/// <summary>
/// QueryAudit when the store cannot be read: UNAVAILABLE (an outage of the log, not a bad request), the cause
/// logged for the operators (AuditQueryFailed, a warning) and not sent to the caller. The server runs with the
/// log switched off so that the test, not the writer, decides what lies in the data directory.
/// </summary>
public sealed class QueryAuditStoreTests : IAsyncLifetime
{
    private GatekeeperServer? _server;

    private GatekeeperServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _server = await GatekeeperServer.StartAsync("--Gatekeeper:AuditEnabled=false");

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task QueryAudit_NoLogFile_Unavailable()
    {
        // Arrange
        using var client = Server.CreateClient();
        var logged = Server.Logs.Count;

        // Act
        var ex = await Assert.ThrowsAsync<Client.RpcException>(() => client.QueryAuditAsync(new QueryAuditRequest()));

        // Assert
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.DoesNotContain(Server.DataDirectory, ex.Detail, StringComparison.Ordinal);
        var warning = Assert.Single(Server.Logs.Since(logged), r => r.EventId.Name == "AuditQueryFailed");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal(400 + 1, warning.EventId.Id);
    }

    [Fact]
    public async Task QueryAudit_StoreIsNotADatabase_Unavailable()
    {
        // Arrange
        using var client = Server.CreateClient();
        await File.WriteAllTextAsync(Path.Combine(Server.DataDirectory, AuditOptions.DatabaseFileName), "this is not an SQLite file, it was overwritten");

        // Act
        var ex = await Assert.ThrowsAsync<Client.RpcException>(() => client.QueryAuditAsync(new QueryAuditRequest { Recipient = "police" }));

        // Assert
        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    [Fact]
    public async Task QueryAudit_BySubjectWithoutAnyKey_FailedPreconditionNotAnEmptyPage()
    {
        // Arrange
        using var client = Server.CreateClient();

        // Act
        var ex = await Assert.ThrowsAsync<Client.RpcException>(() => client.QueryAuditAsync(new QueryAuditRequest { SubjectRef = "someone" }));

        // Assert
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.StartsWith("subject_ref:", ex.Detail, StringComparison.Ordinal);
    }
}
