using System.Diagnostics;

namespace Gatekeeper.FunctionalTests.Infrastructure;

/// <summary>
/// Where the interop peers live and whether the tools they need are installed. A missing tool fails the test
/// with the command that installs it: interop tests never skip.
/// </summary>
public static class InteropEnvironment
{
    /// <summary>Debian's python, which sees python3-grpcio (a pyenv python on PATH does not).</summary>
    public const string Python = "/usr/bin/python3";

    private const string AptPackages = "python3-grpcio python3-h2 python3-protobuf protobuf-compiler protobuf-compiler-grpc";
    private static readonly Lazy<string?> PythonProblem = new(FindPythonProblem);
    private static readonly Lazy<string?> NodeProblem = new(FindNodeProblem);

    /// <summary>The repository root (the folder holding Gatekeeper.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>protos/ of the repository.</summary>
    public static string ProtosDirectory => Path.Combine(RepoRoot, "protos");

    /// <summary>tests/interop/python.</summary>
    public static string PythonDirectory => Path.Combine(RepoRoot, "tests", "interop", "python");

    /// <summary>tests/interop/node.</summary>
    public static string NodeDirectory => Path.Combine(RepoRoot, "tests", "interop", "node");

    /// <summary>Throws with an install hint unless python3-grpcio, h2 and Debian's protoc with the gRPC plugin are there.</summary>
    public static void RequirePython()
    {
        if (PythonProblem.Value is { } problem)
        {
            throw new InvalidOperationException(
                $"Python interop tests need Debian's {AptPackages}: {problem}. " +
                $"Run ./scripts/test.sh (it installs them) or: apt-get update && apt-get install -y {AptPackages}");
        }
    }

    /// <summary>Throws with an install hint unless node and the committed npm dependencies are installed.</summary>
    public static void RequireNode()
    {
        if (NodeProblem.Value is { } problem)
        {
            throw new InvalidOperationException(
                $"Node interop tests need node and @grpc/grpc-js + @grpc/proto-loader: {problem}. " +
                "Run ./scripts/test.sh (it installs them) or: npm ci --prefix tests/interop/node");
        }
    }

    /// <summary>Runs a tool to check it works; returns what went wrong, or null.</summary>
    internal static string? Probe(string fileName, params string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            info.Environment.Remove("PYTHONPATH");
            info.Environment.Remove("PYTHONHOME");
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(30_000))
            {
                process.Kill(entireProcessTree: true);
                return $"'{fileName} {string.Join(' ', arguments)}' did not finish within 30 s";
            }

            return process.ExitCode == 0 ? null : $"'{fileName} {string.Join(' ', arguments)}' failed: {stderr.Result.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"cannot run {fileName}: {ex.Message}";
        }
    }

    private static string? FindPythonProblem()
    {
        foreach (var tool in new[] { Python, "/usr/bin/protoc", "/usr/bin/grpc_python_plugin" })
        {
            if (!File.Exists(tool))
            {
                return $"{tool} is missing";
            }
        }

        return Probe(Python, "-c", "import grpc, h2, google.protobuf");
    }

    private static string? FindNodeProblem()
    {
        foreach (var package in new[] { "@grpc/grpc-js", "@grpc/proto-loader" })
        {
            if (!File.Exists(Path.Combine(NodeDirectory, "node_modules", package, "package.json")))
            {
                return $"{package} is not installed in {NodeDirectory}/node_modules";
            }
        }

        return Probe("node", "--version");
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatekeeper.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Gatekeeper.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>A scratch folder under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    /// <summary>Creates an empty folder.</summary>
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gatekeeper-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A peer still holding a file; the system temp cleaner gets it.
        }
    }
}
