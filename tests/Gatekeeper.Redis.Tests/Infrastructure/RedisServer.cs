using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatekeeper.Redis.Tests.Infrastructure;

/// <summary>
/// A real redis-server process on a free loopback port with its own temporary data directory. It can be
/// killed and restarted on the same port, and paused (SIGSTOP) to play a server that stops answering.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string[] _extraArgs;
    private readonly bool _tls;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private RedisServer(string executable, string[] extraArgs, bool tls)
    {
        Executable = executable;
        _extraArgs = extraArgs;
        _tls = tls;
        Port = FreePort();
        DataDirectory = Directory.CreateTempSubdirectory("gk-redis-").FullName;
        Launch();
    }

    public string Executable { get; }

    public int Port { get; }

    public string DataDirectory { get; }

    public int ProcessId => _process?.Id ?? 0;

    /// <summary>The configuration string for this server, plus optional extra settings.</summary>
    public string Configuration(string? extra = null) => $"127.0.0.1:{Port}" + (extra is null ? string.Empty : "," + extra);

    /// <summary>Starts a plain-text server. Fails (never skips) when redis-server is not installed.</summary>
    public static RedisServer Start(params string[] extraArgs) => new(FindExecutable(), extraArgs, tls: false);

    /// <summary>Starts a server that only speaks TLS on <see cref="Port"/>.</summary>
    public static RedisServer StartTls(string certFile, string keyFile, string caFile) => new(
        FindExecutable(),
        ["--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no"],
        tls: true);

    public static string FindExecutable()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "redis-server was not found on PATH; these tests need a real Redis. Install it: apt-get install redis-server");
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        var process = _process;
        if (process is null)
        {
            return;
        }

        Signal("-CONT");
        process.Kill();
        process.WaitForExit(5000);
        process.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port.</summary>
    public void Restart()
    {
        Kill();
        Launch();
    }

    /// <summary>SIGSTOP: the socket stays open, the kernel still accepts connections, but nothing is answered.</summary>
    public void Pause() => Signal("-STOP");

    /// <summary>SIGCONT.</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        if (_process is null)
        {
            return;
        }

        using var kill = Process.Start(new ProcessStartInfo("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit(5000);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {_process.Id} failed");
        }
    }

    private void Launch()
    {
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var info = new ProcessStartInfo(Executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (_tls)
        {
            info.ArgumentList.Add("--port");
            info.ArgumentList.Add("0");
            info.ArgumentList.Add("--tls-port");
            info.ArgumentList.Add(port);
        }
        else
        {
            info.ArgumentList.Add("--port");
            info.ArgumentList.Add(port);
        }

        foreach (var arg in (string[])["--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", DataDirectory, .. _extraArgs])
        {
            info.ArgumentList.Add(arg);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(e.Data);
            }

            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var exited = process.WaitForExitAsync();
        var first = Task.WhenAny(ready.Task, exited, Task.Delay(10_000)).GetAwaiter().GetResult();
        if (first != ready.Task)
        {
            string log;
            lock (_output)
            {
                log = _output.ToString();
            }

            Kill();
            throw new InvalidOperationException($"redis-server on port {Port} did not become ready:\n{log}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        Kill();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }
}

/// <summary>One redis-server shared by the tests of a class.</summary>
public sealed class RedisServerFixture : IDisposable
{
    public RedisServer Server { get; } = RedisServer.Start();

    public void Dispose() => Server.Dispose();
}
