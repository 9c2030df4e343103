using Gatekeeper.Redis.Tests.Infrastructure;

namespace Gatekeeper.Redis.Tests;

public sealed class RedisAuthFixture : IDisposable
{
    public RedisServer Server { get; } = RedisServer.Start("--requirepass", "s3cret");

    public void Dispose() => Server.Dispose();
}

public sealed class RedisAuthTests : IClassFixture<RedisAuthFixture>
{
    private readonly RedisServer _server;

    public RedisAuthTests(RedisAuthFixture fixture) => _server = fixture.Server;

    private static Exception Innermost(Exception error)
    {
        while (error.InnerException is not null)
        {
            error = error.InnerException;
        }

        return error;
    }

    [Fact]
    public async Task Password_Correct_CommandsWork()
    {
        await using var connection = await RedisConnection.ConnectAsync(_server.Configuration("password=s3cret"));

        await connection.SetAsync("auth:k", new byte[] { 1 });

        Assert.Equal([1], await connection.GetAsync("auth:k"));
    }

    [Fact]
    public async Task Password_Wrong_ConnectFailsWithTheServersText()
    {
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(_server.Configuration("password=nope")));

        Assert.Contains("authentication", error.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", Assert.IsType<RedisServerException>(Innermost(error)).ServerMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_Missing_ConnectFailsWithNoAuth()
    {
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(_server.Configuration()));

        Assert.Equal("NOAUTH", Assert.IsType<RedisServerException>(Innermost(error)).ErrorCode);
    }

    [Fact]
    public async Task AclUser_WithPassword_AuthenticatesAndItsPermissionsApply()
    {
        await using (var admin = await RedisConnection.ConnectAsync(_server.Configuration("password=s3cret")))
        {
            await admin.ExecuteAsync("ACL", "SETUSER", "alice", "reset", "on", ">alicepw", "~alice:*", "+@all");
        }

        await using var alice = await RedisConnection.ConnectAsync(_server.Configuration("user=alice,password=alicepw"));

        Assert.Equal("alice", (await alice.ExecuteAsync("ACL", "WHOAMI")).GetString());
        await alice.SetAsync("alice:k", new byte[] { 2 });
        Assert.Equal([2], await alice.GetAsync("alice:k"));
        var denied = await Assert.ThrowsAsync<RedisServerException>(async () => await alice.SetAsync("bob:k", new byte[] { 3 }));
        Assert.Equal("NOPERM", denied.ErrorCode);
        Assert.Equal(RedisConnectionState.Connected, alice.State);
    }

    [Fact]
    public async Task AclUser_WrongPassword_ConnectFails()
    {
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(_server.Configuration("user=alice,password=wrong")));

        Assert.Equal("WRONGPASS", Assert.IsType<RedisServerException>(Innermost(error)).ErrorCode);
    }
}
