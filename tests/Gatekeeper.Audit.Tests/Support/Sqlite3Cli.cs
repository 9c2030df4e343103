using System.Diagnostics;

namespace Gatekeeper.Audit.Tests.Support;

/// <summary>The real sqlite3 shell: tampering is done with the tool an intruder would use, not with our code.</summary>
public static class Sqlite3Cli
{
    private const string Path = "/usr/bin/sqlite3";

    public static string Run(string databasePath, string sql)
    {
        if (!File.Exists(Path))
        {
            Assert.Fail("The tamper tests need the sqlite3 shell: apt-get install sqlite3");
        }

        using var process = Process.Start(new ProcessStartInfo(Path)
        {
            ArgumentList = { "-bail", databasePath, sql },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"sqlite3 failed ({process.ExitCode}): {stderr}");
        return stdout;
    }
}
