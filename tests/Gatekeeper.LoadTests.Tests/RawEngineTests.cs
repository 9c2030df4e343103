using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.LoadTests.Tests;

/// <summary>
/// The raw engine's reading of answers, against a real Kestrel (HTTP/2 on 127.0.0.1:0) that answers in each of the
/// shapes a gRPC server can: a message then trailers, Trailers-Only, an HTTP error without a gRPC status, and an
/// error status in the trailers after a message. Kestrel indexes repeated response headers in its HPACK table, so
/// the decoder's dynamic table is exercised on every call after the first.
/// </summary>
public sealed class RawEngineTests : IAsyncLifetime
{
    private readonly string _outDirectory = Directory.CreateTempSubdirectory("gk-raw-out-").FullName;
    private WebApplication? _app;
    private string _target = string.Empty;
    private long _answered;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        _app = builder.Build();
        _app.MapPost("/gatekeeper.v1.Gatekeeper/Decide", AnswerAsync);
        await _app.StartAsync();
        _target = _app.Urls.First();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_outDirectory, recursive: true);
    }

    [Fact]
    public async Task RunAsync_RawEngine_ReadsStatusFromTrailersTrailersOnlyAndHttpErrors()
    {
        var (code, summary, output) = await RunAsync(_target, "shapes", "--mode", "closed", "--concurrency", "8");

        Assert.True(code == LoadTestCommand.Passed, output);
        var calls = summary.GetProperty("calls").GetInt64();
        var errors = summary.GetProperty("errorsByStatus");
        var unavailable = errors.GetProperty("Unavailable").GetInt64(); // Trailers-Only 14, and HTTP 503
        var notFound = errors.GetProperty("NotFound").GetInt64();       // grpc-status 5 after a message
        var ok = calls - summary.GetProperty("errors").GetInt64();
        Assert.True(calls > 100, output);
        Assert.True(errors.EnumerateObject().Count() == 2, output);
        // The server cycles through its four shapes, so each share is close to its quarter.
        Assert.InRange(ok / (double)calls, 0.2, 0.3);
        Assert.InRange(notFound / (double)calls, 0.2, 0.3);
        Assert.InRange(unavailable / (double)calls, 0.45, 0.55);
        Assert.True(Interlocked.Read(ref _answered) >= calls, "every call recorded was answered by the server");
    }

    [Fact]
    public async Task RunAsync_RawEngineOpenLoop_KeepsTheOfferedRate()
    {
        var (code, summary, output) = await RunAsync(_target, "open", "--mode", "open", "--rate", "500");

        Assert.True(code == LoadTestCommand.Passed, output);
        // 500/s for 2 s: ~1000 Poisson arrivals, every one sent however late the generator gets (CI runs the test
        // projects side by side on two cores), so the count is checked, not the rate over a stretched run.
        Assert.InRange(summary.GetProperty("calls").GetInt64(), 800, 1200);
        Assert.True(summary.GetProperty("sendLagMs").GetProperty("p50").GetDouble() < 50, output);
    }

    [Theory]
    [InlineData("open", "--rate", "200")]
    [InlineData("closed", "--concurrency", "4")]
    public async Task RunAsync_RawEngineNothingListening_EveryCallIsAClientFailureWithTheReason(string mode, string option, string value)
    {
        using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port; // bound, never listening: connections are refused

        var (code, summary, output) = await RunAsync($"http://127.0.0.1:{closedPort}", "refused-" + mode, "--mode", mode, option, value);

        Assert.True(code == LoadTestCommand.Passed, output);
        Assert.True(summary.GetProperty("calls").GetInt64() > 50, output);
        Assert.Equal(summary.GetProperty("calls").GetInt64(), summary.GetProperty("errorsByStatus").GetProperty("ClientFailure").GetInt64());
        Assert.Contains("cannot connect to 127.0.0.1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RawEngineHttpsTarget_RefusedAsUsageError()
    {
        var stderr = new StringWriter();

        var code = await LoadTestCommand.RunAsync(
            [Repository.Path("load-tests", "scenarios", "smoke.json"), "--target", "https://127.0.0.1:5001", "--engine", "raw"],
            new StringWriter(),
            stderr,
            CancellationToken.None);

        Assert.Equal(LoadTestCommand.UsageError, code);
        Assert.Contains("plain-text HTTP/2 only", stderr.ToString(), StringComparison.Ordinal);
    }

    private async Task<(int Code, JsonElement Summary, string Output)> RunAsync(string target, string name, params string[] options)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args =
        [
            Repository.Path("load-tests", "scenarios", "smoke.json"), "--target", target, "--engine", "raw", "--name", name,
            "--out", _outDirectory, "--duration", "2s", "--warmup", "0s", "--batch-share", "0", "--quiet", .. options,
        ];

        var code = await LoadTestCommand.RunAsync(args, stdout, stderr, CancellationToken.None);

        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_outDirectory, name + ".json")));
        return (code, report.RootElement.GetProperty("summary").Clone(), $"exit {code}\n{stdout}\n{stderr}");
    }

    private async Task AnswerAsync(HttpContext context)
    {
        await context.Request.Body.CopyToAsync(Stream.Null);
        var response = context.Response;
        switch (Interlocked.Increment(ref _answered) % 4)
        {
            case 0: // a message, then trailers with OK
                response.ContentType = "application/grpc";
                response.AppendTrailer("grpc-status", "0");
                await response.Body.WriteAsync(new byte[5]);
                break;
            case 1: // Trailers-Only
                response.ContentType = "application/grpc";
                response.Headers["grpc-status"] = "14";
                response.Headers["grpc-message"] = "try again";
                break;
            case 2: // not gRPC at all: the HTTP status decides (503 -> UNAVAILABLE)
                response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                break;
            default: // a message, then an error in the trailers
                response.ContentType = "application/grpc";
                response.AppendTrailer("grpc-status", "5");
                response.AppendTrailer("grpc-message", "no such thing");
                await response.Body.WriteAsync(new byte[5]);
                break;
        }
    }
}
