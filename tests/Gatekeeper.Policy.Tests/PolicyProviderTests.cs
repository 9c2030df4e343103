using Gatekeeper.Policy.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Policy.Tests;

public sealed class PolicyProviderTests : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(250);
    private readonly TempFolder _folder = new();
    private readonly ListLogger<PolicyProvider> _logger = new();
    private readonly ManualTimeProvider _time = new();

    public void Dispose() => _folder.Dispose();

    private PolicyProvider Start(bool watch = true)
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", TestPolicies.Rules);
        return new PolicyProvider(_folder.Path, _logger, _time, PolicyLoaderOptions.Default, Debounce, watch);
    }

    private static string Edited(string reason) => TestPolicies.Rules.Replace("reason: never the press", "reason: " + reason, StringComparison.Ordinal);

    /// <summary>Lets real file-system events arrive, moving the fake clock past the debounce each time.</summary>
    private async Task<bool> WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 200; i++)
        {
            _time.Advance(Debounce);
            if (condition())
            {
                return true;
            }

            await Task.Delay(25);
        }

        return false;
    }

    [Fact]
    public void Constructor_ValidPolicy_ServesItAndLogsLoaded()
    {
        using var provider = Start(watch: false);

        Assert.StartsWith("test.1+sha256:", provider.Current.Version, StringComparison.Ordinal);
        Assert.Contains(_logger.Entries, e => e.EventName == "PolicyLoaded" && e.Level == LogLevel.Information);
    }

    [Fact]
    public void Constructor_InvalidPolicy_ThrowsWithEveryErrorAndLogsThem()
    {
        _folder.Write("vocabulary.yaml", TestPolicies.Vocabulary);
        _folder.Write("rules.yaml", "rules:\n  - { id: a, effect: allow, categories: [x1], recipients: [x2], purposes: [care], lawful_basis: { article6: \"6(1)(e)\" }, reason: r, source: s }\n");

        var ex = Assert.Throws<PolicyLoadException>(() => new PolicyProvider(_folder.Path, _logger, _time, PolicyLoaderOptions.Default, Debounce, watch: false));

        Assert.Equal(2, ex.Errors.Count);
        Assert.Contains("unknown category 'x1'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("unknown recipient 'x2'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_logger.Entries, e => e.EventName == "PolicyStartupFailed" && e.Level == LogLevel.Critical);
        Assert.Equal(2, _logger.Entries.Count(e => e.EventName == "PolicyError"));
    }

    [Fact]
    public void Reload_ValidEdit_SwapsAndRaisesVersionChanged()
    {
        using var provider = Start(watch: false);
        var before = provider.Current;
        PolicyVersionChangedEventArgs? raised = null;
        provider.VersionChanged += (_, e) => raised = e;
        _folder.Write("rules.yaml", Edited("edited"));

        var result = provider.Reload();

        Assert.True(result.IsValid);
        Assert.Same(result.Policy, provider.Current);
        Assert.NotEqual(before.Version, provider.Current.Version);
        Assert.NotNull(raised);
        Assert.Same(before, raised.Previous);
        Assert.Same(provider.Current, raised.Current);
        Assert.Equal("edited", provider.Current.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
        Assert.Equal("never the press", before.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
    }

    [Fact]
    public void Reload_InvalidEdit_KeepsOldPolicyAndLogsEveryError()
    {
        using var provider = Start(watch: false);
        var before = provider.Current;
        bool raised = false;
        provider.VersionChanged += (_, _) => raised = true;
        _folder.Write("rules.yaml", TestPolicies.Rules.Replace("categories: [health]", "categories: [helth]", StringComparison.Ordinal).Replace("recipients: [press]", "recipients: [pres]", StringComparison.Ordinal));

        var result = provider.Reload();

        Assert.False(result.IsValid);
        Assert.Equal(2, result.Errors.Count);
        Assert.Same(before, provider.Current);
        Assert.False(raised);
        Assert.Contains(_logger.Entries, e => e.EventName == "PolicyRejected" && e.Message.Contains("still serving " + before.Version, StringComparison.Ordinal));
        Assert.Equal(2, _logger.Entries.Count(e => e.EventName == "PolicyError" && e.Level == LogLevel.Error));
    }

    [Fact]
    public void Reload_UnchangedFiles_NoEvent()
    {
        using var provider = Start(watch: false);
        var before = provider.Current;
        bool raised = false;
        provider.VersionChanged += (_, _) => raised = true;

        var result = provider.Reload();

        Assert.True(result.IsValid);
        Assert.Same(before, provider.Current);
        Assert.False(raised);
    }

    [Fact]
    public void Reload_ThrowingSubscriber_StillSwapsAndLogs()
    {
        using var provider = Start(watch: false);
        provider.VersionChanged += (_, _) => throw new InvalidOperationException("subscriber bug");
        _folder.Write("rules.yaml", Edited("edited"));

        provider.Reload();

        Assert.Equal("edited", provider.Current.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
        Assert.Contains(_logger.Entries, e => e.EventName == "PolicyVersionHandlerFailed");
    }

    [Fact]
    public async Task Watcher_FileEdited_ReloadsAfterDebounce()
    {
        using var provider = Start();
        var before = provider.Current;
        var changed = new TaskCompletionSource<PolicyVersionChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        provider.VersionChanged += (_, e) => changed.TrySetResult(e);

        _folder.Write("rules.yaml", Edited("watched"));

        Assert.True(await WaitUntil(() => changed.Task.IsCompleted), "the watcher never reloaded the edited policy");
        Assert.Same(before, (await changed.Task).Previous);
        Assert.Equal("watched", provider.Current.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
    }

    [Fact]
    public async Task Watcher_EditorWritesTempThenRenames_Reloads()
    {
        using var provider = Start();
        var before = provider.Current.Version;
        var temp = _folder.Write("rules.yaml.swp~", Edited("renamed into place"));

        File.Move(temp, Path.Combine(_folder.Path, "rules.yaml"), overwrite: true);

        Assert.True(await WaitUntil(() => provider.Current.Version != before), "the watcher missed the rename");
        Assert.Equal("renamed into place", provider.Current.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
    }

    [Fact]
    public async Task Watcher_InvalidEdit_OldKeptThenValidEditSwaps()
    {
        using var provider = Start();
        var before = provider.Current;

        _folder.Write("rules.yaml", "rules: [ this is not closed");
        Assert.True(await WaitUntil(() => _logger.Entries.Any(e => e.EventName == "PolicyRejected")), "the invalid edit was never read");
        Assert.Same(before, provider.Current);

        _folder.Write("rules.yaml", Edited("fixed"));
        Assert.True(await WaitUntil(() => provider.Current != before), "the fixed edit was never read");
        Assert.Equal("fixed", provider.Current.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
    }

    [Fact]
    public async Task Watcher_BeforeDebounceElapses_DoesNotReload()
    {
        using var provider = Start();
        var before = provider.Current;
        _folder.Write("rules.yaml", Edited("too soon"));

        // Real time passes for the file event to arrive; the fake clock does not move.
        await Task.Delay(500);

        Assert.Same(before, provider.Current);
        Assert.True(await WaitUntil(() => provider.Current != before));
    }

    [Fact]
    public void InFlightEvaluation_KeepsThePolicyItStartedWith()
    {
        using var provider = Start(watch: false);
        var inFlight = provider.Current;
        _folder.Write("rules.yaml", Edited("new"));

        provider.Reload();

        Assert.Equal("never the press", inFlight.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
        Assert.Equal("new", provider.Current.Evaluate(new PolicyQuery("contact", "press", "care")).Reason);
    }
}
