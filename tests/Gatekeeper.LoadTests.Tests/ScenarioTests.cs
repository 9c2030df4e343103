namespace Gatekeeper.LoadTests.Tests;

public sealed class ScenarioTests
{
    [Fact]
    public void Load_EveryShippedScenario_IsValid()
    {
        var files = Directory.GetFiles(Repository.Path("load-tests", "scenarios"), "*.json");

        Assert.True(files.Length >= 5, $"expected the shipped scenarios, found {files.Length}");
        foreach (var file in files)
        {
            var scenario = Scenario.Load(file);
            Assert.Equal(Path.GetFileNameWithoutExtension(file), scenario.Name);
        }
    }

    [Fact]
    public void Parse_SeveralBadSettings_ReportsEveryOne()
    {
        const string json = """
            { "mode": "open", "rate": 0, "duration": "soon", "distinctShare": 2, "colour": "red",
              "weights": { "form": { "shredded": 1 } } }
            """;

        var ex = Assert.Throws<FormatException>(() => Scenario.Parse(json, "bad"));

        foreach (var expected in new[] { "rate:", "duration:", "distinctShare:", "colour: unknown setting", "weights.form.shredded: unknown" })
        {
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("500us", 0.5)]
    [InlineData("1.5ms", 1.5)]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("7", 7)]
    public void TryParseTime_Units_Milliseconds(string text, double ms)
    {
        Assert.True(Units.TryParseTime(text, out var value));
        Assert.Equal(ms, value.TotalMilliseconds, 6);
    }
}

internal static class Repository
{
    /// <summary>A path under the repository root (the directory holding Gatekeeper.sln).</summary>
    public static string Path(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Gatekeeper.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        return System.IO.Path.Combine([dir.FullName, .. parts]);
    }
}
