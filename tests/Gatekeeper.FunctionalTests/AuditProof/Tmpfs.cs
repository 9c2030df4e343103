using System.Diagnostics;

namespace Gatekeeper.FunctionalTests.AuditProof;

/// <summary>
/// A small tmpfs, for a real "disk full" (ENOSPC, which SQLite reports as SQLITE_FULL) or a real read-only file
/// system (EROFS). chmod cannot fail the store: CI runs as root, and root ignores permission bits. Mounting needs
/// CAP_SYS_ADMIN, which root has in CI; without it the test fails and says so rather than skipping.
/// </summary>
internal sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    public static Tmpfs Mount(string path, int sizeKiB, bool readOnly = false)
    {
        Directory.CreateDirectory(path);
        var options = $"size={sizeKiB}k" + (readOnly ? ",ro" : "");
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path);
        if (code != 0)
        {
            Assert.Fail($"This test mounts a {sizeKiB} KiB tmpfs ({options}) to fail the disk for real, and mount failed ({output}). Run it as root with CAP_SYS_ADMIN.");
        }

        return new Tmpfs(path);
    }

    /// <summary>Writes a filler file until ENOSPC; returns its path (delete it to free the space).</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler.bin");
        var chunk = new byte[4096];
        using var stream = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        try
        {
            while (true)
            {
                stream.Write(chunk);
            }
        }
        catch (IOException)
        {
            // ENOSPC: the file system is full.
        }

        return filler;
    }

    /// <summary>Lazy unmount: succeeds even if a killed process still had files open here.</summary>
    public void Dispose() => Run("umount", "-l", Path);

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            return (-1, $"{file} did not finish within 30 s");
        }

        return (process.ExitCode, (stdout.Result + stderr.Result).Trim());
    }
}
