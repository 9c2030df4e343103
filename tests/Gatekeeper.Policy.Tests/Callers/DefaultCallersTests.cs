namespace Gatekeeper.Policy.Tests.Callers;

/// <summary>The shipped policy's callers section: local development works and nothing else is trusted by default.</summary>
public sealed class DefaultCallersTests
{
    private static CompiledPolicy LoadDefault()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "policies");
            if (File.Exists(Path.Combine(dir.FullName, "Gatekeeper.sln")) && Directory.Exists(candidate))
            {
                var result = PolicyLoader.LoadPath(candidate);
                Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
                return result.Policy!;
            }
        }

        throw new DirectoryNotFoundException("policies/ not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void DefaultPolicy_Callers_AnonymousLoopbackMayDoEverythingAndNobodyElseAnything()
    {
        var callers = LoadDefault().Callers;

        Assert.True(callers.Declared);
        Assert.True(callers.TryGet(CallerPolicy.AnonymousLoopback, out var loopback));
        Assert.True(loopback.MayAsk("cpis_flag", "cpis_alert"));
        Assert.True(loopback.MayQueryAudit && loopback.MayReloadPolicy);
        Assert.True(loopback.RateLimit!.IsUnlimited);
        Assert.Equal([CallerPolicy.AnonymousLoopback], callers.Callers);
    }
}
