using Gatekeeper.Audit.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Audit.Tests;

/// <summary>
/// The test assembly doubles as the crash-test child (GenerateProgramFile=false in the project):
/// <c>dotnet Gatekeeper.Audit.Tests.dll crash-child DATA_DIR WRITERS</c> appends until killed, printing each
/// decision id only after its AppendAsync completed, i.e. after the record was durable.
/// </summary>
public static class Program
{
    public const string CrashChildCommand = "crash-child";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 3 || args[0] != CrashChildCommand)
        {
            await Console.Error.WriteLineAsync($"usage: {CrashChildCommand} DATA_DIR WRITERS (tests are run with dotnet test)");
            return 2;
        }

        var options = new AuditOptions { DataDirectory = args[1], CheckpointEveryRecords = 500 };
        var log = new AuditLog(options, NullLogger.Instance, TimeProvider.System);
        var gate = new Lock();
        var writers = Enumerable.Range(0, int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture)).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var record = Records.Sample();
                await log.AppendAsync(record);
                lock (gate)
                {
                    Console.Out.WriteLine(record.DecisionId); // Console.Out autoflushes: one write(2) per ack
                }
            }
        }));
        await Task.WhenAll(writers);
        return 0;
    }
}
