using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Policy;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests.Admin;

/// <summary>
/// gatekeeper.v1.Admin/ReloadPolicy against the real server. The policy path is a symbolic link that the test
/// points at one folder or another (as a Kubernetes ConfigMap swap does): the server's file watcher keeps
/// watching the folder it resolved at start-up and never sees the swap, so only ReloadPolicy can pick it up
/// and the outcome does not depend on a race with the watcher.
/// </summary>
public sealed class ReloadPolicyTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("gk-reload-").FullName;
    private GatekeeperServer? _server;

    private string Current => Path.Combine(_root, "current");

    private GatekeeperServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        try
        {
            await PrepareAndStartAsync();
        }
        catch
        {
            // xunit does not call DisposeAsync when InitializeAsync fails: clean up here, then fail.
            Directory.Delete(_root, recursive: true);
            throw;
        }
    }

    private async Task PrepareAndStartAsync()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "policies");
        CopyFolder(shipped, Path.Combine(_root, "v1"));
        // v2: the same rules with one reason reworded, which is a new policy version.
        CopyFolder(shipped, Path.Combine(_root, "v2"));
        var rules = Path.Combine(_root, "v2", "rules.yaml");
        var text = await File.ReadAllTextAsync(rules);
        var reworded = text.Replace("The privacy notice never permits sharing", "The privacy notice does not ever permit sharing", StringComparison.Ordinal);
        Assert.NotEqual(text, reworded);
        await File.WriteAllTextAsync(rules, reworded);
        // bad: v2 with a rule that names an unknown effect and a line that is not YAML.
        CopyFolder(Path.Combine(_root, "v2"), Path.Combine(_root, "bad"));
        await File.AppendAllTextAsync(Path.Combine(_root, "bad", "rules.yaml"), "\n  - id: broken_rule\n    effect: maybe\n  - [unclosed\n");
        PointAt("v1");
        _server = await GatekeeperServer.StartAsync($"--Gatekeeper:PolicyPath={Current}");
    }

    public async Task DisposeAsync()
    {
        try
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task ReloadPolicy_FilesUnchanged_SameVersionNotChanged()
    {
        // Arrange
        using var client = Server.CreateClient();
        var v1 = VersionOf("v1");

        // Act
        var response = await client.ReloadPolicyAsync();

        // Assert
        Assert.Equal(v1, response.Version);
        Assert.Equal(v1, response.PreviousVersion);
        Assert.False(response.Changed);
        Assert.Empty(response.Errors);
    }

    [Fact]
    public async Task ReloadPolicy_NewValidFiles_NewVersionServesAtOnce()
    {
        // Arrange
        using var client = Server.CreateClient();
        var (v1, v2) = (VersionOf("v1"), VersionOf("v2"));
        Assert.NotEqual(v1, v2);
        PointAt("v2");

        // Act
        var response = await client.ReloadPolicyAsync();
        var answer = await client.DecideAsync(new DecideRequest { Category = "health_disability", Recipient = "gp_surgery", Purpose = "social_care" });

        // Assert
        Assert.Equal(v2, response.Version);
        Assert.Equal(v1, response.PreviousVersion);
        Assert.True(response.Changed);
        Assert.Empty(response.Errors);
        Assert.Equal(v2, answer.PolicyVersion);
    }

    [Fact]
    public async Task ReloadPolicy_InvalidFiles_ErrorsWithFileLineColumnAndOldVersionKeepsServing()
    {
        // Arrange
        using var client = Server.CreateClient();
        var v1 = VersionOf("v1");
        using var errors = Server.Logs.VerifyNoErrors();
        errors.ExpectError(r => r.Category.Contains("PolicyProvider", StringComparison.Ordinal)); // refused files are logged as errors, by design
        PointAt("bad");

        // Act
        var response = await client.ReloadPolicyAsync();
        var answer = await client.DecideAsync(new DecideRequest { Category = "health_disability", Recipient = "gp_surgery", Purpose = "social_care" });

        // Assert
        Assert.Equal(v1, response.Version);
        Assert.Equal(v1, response.PreviousVersion);
        Assert.False(response.Changed);
        Assert.NotEmpty(response.Errors);
        Assert.All(response.Errors, e => Assert.Matches(@"rules\.yaml:\d+:\d+: \S", e));
        Assert.Equal(v1, answer.PolicyVersion);
    }

    private string VersionOf(string folder) =>
        PolicyLoader.LoadPath(Path.Combine(_root, folder)).Policy?.Version ?? throw new InvalidOperationException($"{folder} does not load.");

    /// <summary>Re-points the link (the server reads it only when asked to reload, so no rename dance is needed).</summary>
    private void PointAt(string folder)
    {
        if (File.Exists(Current) || Directory.Exists(Current))
        {
            File.Delete(Current); // unlinks the link itself, never the folder it points at
        }

        File.CreateSymbolicLink(Current, Path.Combine(_root, folder));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
