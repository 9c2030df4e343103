using BenchmarkDotNet.Running;

namespace Gatekeeper.Benchmarks;

internal static class BenchmarkProgram
{
    private static async Task Main(string[] args)
    {
        if (args is ["writer-cost", ..])
        {
            // Not a BenchmarkDotNet job: CPU time per record, see AuditWriterCost.
            await AuditWriterCost.RunAsync(
                args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200_000,
                args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 6);
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
    }
}
