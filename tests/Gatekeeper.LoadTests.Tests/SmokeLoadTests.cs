using System.Text.Json;
using System.Xml;
using Gatekeeper.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.LoadTests.Tests;

/// <summary>
/// CI's smoke load: the tool against the real service (in-process on 127.0.0.1, audit on) for a few seconds with
/// loose bounds, so that the tool itself never rots. The real targets are judged by load-tests/run.sh and
/// the benchmark script, never by timed tests on a shared machine.
/// </summary>
public sealed class SmokeLoadTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("gk-smoke-").FullName;
    private readonly string _outDirectory = Directory.CreateTempSubdirectory("gk-smoke-out-").FullName;
    private WebApplication? _app;
    private string _target = string.Empty;

    public async Task InitializeAsync()
    {
        _app = GatekeeperApp.Build(
            ["--urls", "http://127.0.0.1:0", $"--Gatekeeper:DataDirectory={_dataDirectory}"],
            builder => builder.Logging.ClearProviders());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StartAsync(cts.Token);
        _target = _app.Urls.First();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _app.StopAsync(cts.Token);
            await _app.DisposeAsync();
        }

        Directory.Delete(_dataDirectory, recursive: true);
        Directory.Delete(_outDirectory, recursive: true);
    }

    [Fact]
    public async Task RunAsync_SmokeScenario_PassesLooseTargetsAndWritesReports()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await LoadTestCommand.RunAsync(
            [Repository.Path("load-tests", "scenarios", "smoke.json"), "--target", _target, "--out", _outDirectory, "--assert", "errors=0,rate>=50,p99<3s"],
            stdout,
            stderr,
            CancellationToken.None);

        Assert.True(code == LoadTestCommand.Passed, $"exit {code}\n{stdout}\n{stderr}");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_outDirectory, "smoke.json")));
        var summary = report.RootElement.GetProperty("summary");
        Assert.True(summary.GetProperty("calls").GetInt64() > 100);
        Assert.True(summary.GetProperty("decisions").GetInt64() > summary.GetProperty("calls").GetInt64(), "the batches' decisions are counted");
        Assert.True(summary.GetProperty("distinctRequests").GetInt64() > 0);
        Assert.True(report.RootElement.GetProperty("timeline").GetArrayLength() >= 3);
        var svg = new XmlDocument();
        svg.Load(Path.Combine(_outDirectory, "smoke.svg"));
        Assert.Equal("svg", svg.DocumentElement!.LocalName);
        Assert.Contains("calls/s", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TargetMissed_ExitsWithTargetsMissed()
    {
        var stdout = new StringWriter();

        var code = await LoadTestCommand.RunAsync(
            [Repository.Path("load-tests", "scenarios", "smoke.json"), "--target", _target, "--out", _outDirectory, "--name", "impossible",
             "--duration", "1s", "--warmup", "0s", "--quiet", "--assert", "p50<1us"],
            stdout,
            new StringWriter(),
            CancellationToken.None);

        Assert.Equal(LoadTestCommand.TargetsMissed, code);
        Assert.Contains("FAIL  p50<1us", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RemoteTarget_RefusedAsUsageError()
    {
        var stderr = new StringWriter();

        var code = await LoadTestCommand.RunAsync(
            [Repository.Path("load-tests", "scenarios", "smoke.json"), "--target", "http://example.org:5000"],
            new StringWriter(),
            stderr,
            CancellationToken.None);

        Assert.Equal(LoadTestCommand.UsageError, code);
        Assert.Contains("only 127.0.0.1", stderr.ToString(), StringComparison.Ordinal);
    }
}
