using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Gatekeeper.FunctionalTests.AuditProof;

/// <summary>
/// The real service as a separate OS process (<c>dotnet Gatekeeper.dll</c> from this test's output folder, where
/// the referenced service project's dll, runtimeconfig, deps and policies are copied), so that a test can
/// SIGKILL it. Every wait is bounded; disposing kills it if it still runs, also when the test failed.
/// </summary>
internal sealed partial class ServiceProcess : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _stdout = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly int _maxOutputChars;

    private ServiceProcess(Process process, int maxOutputChars)
    {
        _process = process;
        _maxOutputChars = maxOutputChars;
    }

    /// <summary>Path of the service's entry assembly next to the tests.</summary>
    public static string ServiceDll { get; } = Path.Combine(AppContext.BaseDirectory, "Gatekeeper.dll");

    /// <summary>Everything the process wrote (stdout and stderr interleaved), for assertions and failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Standard output alone (an export's JSON Lines).</summary>
    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Runs the service on a free port with its audit log in <paramref name="dataDirectory"/>.</summary>
    public static ServiceProcess StartService(string dataDirectory, string workingDirectory, params string[] extraArgs) =>
        Start(workingDirectory, null, 4 * 1024 * 1024, ["--urls", "http://127.0.0.1:0", $"--Gatekeeper:DataDirectory={dataDirectory}", .. extraArgs]);

    /// <summary>Runs <c>Gatekeeper.dll audit ...</c> on <paramref name="dataDirectory"/> (found the way ops find it: the environment).</summary>
    public static ServiceProcess StartAuditCommand(string dataDirectory, string workingDirectory, params string[] auditArgs) =>
        Start(workingDirectory, dataDirectory, 256 * 1024 * 1024, ["audit", .. auditArgs]);

    private static ServiceProcess Start(string workingDirectory, string? dataDirectoryEnvironment, int maxOutputChars, string[] args)
    {
        if (!File.Exists(ServiceDll))
        {
            throw new InvalidOperationException($"{ServiceDll} is missing: the functional tests must reference src/Gatekeeper so that its build output is copied next to them.");
        }

        // dotnet test sets DOTNET_HOST_PATH to the muxer that runs it; use the same runtime for the service.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(ServiceDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Nothing from the developer's shell may pick the port, the data directory or the log level.
        foreach (var name in new[] { "ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_ENVIRONMENT", "Gatekeeper__DataDirectory", "Logging__LogLevel__Default" })
        {
            info.Environment.Remove(name);
        }

        if (dataDirectoryEnvironment is not null)
        {
            info.Environment["Gatekeeper__DataDirectory"] = dataDirectoryEnvironment;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, maxOutputChars);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data, service._stdoutClosed, isStdout: true);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data, service._stderrClosed, isStdout: false);
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {dotnet} {ServiceDll}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>The address from Kestrel's "Now listening on" line; throws with the output if the service died or took too long.</summary>
    public async Task<Uri> WaitUntilListeningAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_listening.Task, exited, Task.Delay(timeout));
        if (first == _listening.Task)
        {
            return await _listening.Task;
        }

        throw new TimeoutException(first == exited
            ? $"The service exited (code {_process.ExitCode}) before listening.{Describe()}"
            : $"The service was not listening within {timeout.TotalSeconds:0} s.{Describe()}");
    }

    /// <summary>kill -9: no shutdown hook, no flush, no drain runs.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true); // SIGKILL on Unix
    }

    /// <summary>Waits for the exit and the end of the output; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? ExitTimeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The process did not exit in time.{Describe()}");
        }

        return _process.ExitCode;
    }

    public string Describe() => $"{Environment.NewLine}--- output ---{Environment.NewLine}{Output}";

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private void OnLine(string? line, TaskCompletionSource closed, bool isStdout)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_gate)
        {
            // Bounded: a service that logs in a loop must not eat the test host's memory (an export is all data, so it gets more).
            if (_output.Length < _maxOutputChars)
            {
                _output.AppendLine(line);
                if (isStdout)
                {
                    _stdout.AppendLine(line);
                }
            }
        }

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
