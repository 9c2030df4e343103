namespace Gatekeeper.Audit.Tests.Support;

/// <summary>A real directory on the real file system, removed afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gk-audit-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Data => System.IO.Path.Combine(Path, "data");

    public AuditOptions Options(Action<AuditOptions>? configure = null)
    {
        var options = new AuditOptions { DataDirectory = Data };
        configure?.Invoke(options);
        return options;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A tmpfs still mounted below (see TmpfsMount) is cleaned up by its own Dispose.
        }
    }
}
