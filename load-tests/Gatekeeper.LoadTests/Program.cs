using Gatekeeper.LoadTests;

// Ctrl+C ends the run early; the reports still cover what was measured.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupt.Cancel();
};
return await LoadTestCommand.RunAsync(args, Console.Out, Console.Error, interrupt.Token);
