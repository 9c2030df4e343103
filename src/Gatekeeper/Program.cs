using System.Diagnostics;
using Gatekeeper.Audit;
using Gatekeeper.Hosting;
using Gatekeeper.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

// Subcommands for information-governance officers and ops; anything else runs the service.
switch (args)
{
    case ["policy", .. var policyArgs]:
        return PolicyCli.Run(policyArgs, Console.Out, Console.Error);
    case ["audit", .. var auditArgs]:
        // The same data directory the service uses: Gatekeeper__DataDirectory or appsettings, else ./data.
        return AuditCli.Run(auditArgs, DataDirectory([]), Console.Out, Console.Error);
}

WebApplication app;
try
{
    app = GatekeeperApp.Build(args);
}
catch (Exception ex) when (IsAuditOpenFailure(ex))
{
    // No answer may leave without its record, so a log that cannot be opened must stop the start-up. Say so in
    // one line that names the setting, instead of an unhandled-exception abort (exit 134, maybe a core dump).
    Console.Error.WriteLine(
        $"gatekeeper: cannot start: the audit log in '{Path.GetFullPath(DataDirectory(args))}' (Gatekeeper:DataDirectory) " +
        $"cannot be created or opened: {ex.GetType().Name}: {ex.Message}");
    return AuditCli.ExitFailure;
}

await app.RunAsync();
return 0;

static string DataDirectory(string[] commandLine) =>
    new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .AddCommandLine(commandLine)
        .Build()[$"{GatekeeperOptions.Section}:DataDirectory"] ?? AuditOptions.DefaultDataDirectory;

// Everything the log does on opening (directory, key file, SQLite, directory fsync) runs inside its constructor.
static bool IsAuditOpenFailure(Exception ex) =>
    Array.Exists(new StackTrace(ex).GetFrames(), static f => f.GetMethod()?.DeclaringType == typeof(AuditLog));
