using System.Diagnostics;

namespace Gatekeeper.Audit.Tests.Support;

/// <summary>
/// A size-limited tmpfs, for a REAL "disk full" (ENOSPC → SQLITE_FULL). chmod cannot be used to fail the store:
/// the tests run as root, which ignores permission bits. Mounting needs CAP_SYS_ADMIN (root in this container).
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    public TmpfsMount(string path, int sizeKiB)
    {
        Path = path;
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeKiB}k", "tmpfs", path);
        if (code != 0)
        {
            Assert.Fail($"This fault test mounts a {sizeKiB} KiB tmpfs to fill the disk for real; mount failed ({output}). Run the tests as root with CAP_SYS_ADMIN.");
        }
    }

    public string Path { get; }

    /// <summary>Fills the file system with a filler file until ENOSPC; returns its path.</summary>
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
            // ENOSPC: the disk is now full.
        }

        return filler;
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim());
    }
}
