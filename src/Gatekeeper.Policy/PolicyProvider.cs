using Gatekeeper.Policy.Internal;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Policy;

/// <summary>Raised when the policy being served changes version.</summary>
public sealed class PolicyVersionChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public PolicyVersionChangedEventArgs(CompiledPolicy previous, CompiledPolicy current)
    {
        Previous = previous;
        Current = current;
    }

    /// <summary>The policy served until now (in-flight evaluations may still be using it).</summary>
    public CompiledPolicy Previous { get; }

    /// <summary>The policy now served.</summary>
    public CompiledPolicy Current { get; }
}

/// <summary>Thrown at start-up when the policy is invalid; carries every error.</summary>
public sealed class PolicyLoadException : Exception
{
    /// <summary>Creates the exception from the loader's errors.</summary>
    public PolicyLoadException(string path, IReadOnlyList<PolicyError> errors)
        : base($"The policy at {path} is invalid ({errors.Count} errors):{Environment.NewLine}{string.Join(Environment.NewLine, errors)}")
    {
        Errors = errors;
    }

    /// <summary>Every error the loader found.</summary>
    public IReadOnlyList<PolicyError> Errors { get; }
}

/// <summary>
/// Serves the current compiled policy and keeps it up to date with the files. Readers take
/// <see cref="Current"/> once per request; a reload publishes a new instance with a single
/// reference write, so a request in flight finishes on the policy it started with. An invalid edit
/// is refused and logged, and the previous policy keeps serving.
/// </summary>
public sealed class PolicyProvider : IDisposable
{
    /// <summary>Default quiet period before a change is read: 250 ms, long enough for an editor's save to finish.</summary>
    public static readonly TimeSpan DefaultDebounce = TimeSpan.FromMilliseconds(250);

    private readonly string _path;
    private readonly ILogger<PolicyProvider> _logger;
    private readonly PolicyLoaderOptions _options;
    private readonly TimeSpan _debounce;
    private readonly ITimer _timer;
    private readonly Lock _reloadLock = new();
    private readonly FileSystemWatcher? _watcher;
    private CompiledPolicy _current;
    private bool _disposed;

    /// <summary>
    /// Loads the policy at <paramref name="path"/> (file or folder) and starts watching it.
    /// Throws <see cref="PolicyLoadException"/>, after logging every error, if the policy is invalid.
    /// </summary>
    public PolicyProvider(string path, ILogger<PolicyProvider> logger)
        : this(path, logger, TimeProvider.System, PolicyLoaderOptions.Default, DefaultDebounce, watch: true)
    {
    }

    /// <summary>As the simple constructor, with the clock for the debounce, limits, and whether to watch the files.</summary>
    public PolicyProvider(string path, ILogger<PolicyProvider> logger, TimeProvider timeProvider, PolicyLoaderOptions options, TimeSpan debounce, bool watch)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(options);
        _path = Path.GetFullPath(path);
        _logger = logger;
        _options = options;
        _debounce = debounce;
        var result = PolicyLoader.LoadPath(_path, _options);
        if (result.Policy is null)
        {
            PolicyLog.PolicyStartupFailed(logger, _path, result.Errors.Count);
            PolicyLog.Errors(logger, result.Errors);
            throw new PolicyLoadException(_path, result.Errors);
        }

        _current = result.Policy;
        PolicyLog.PolicyLoaded(logger, _current.Version, _path, _current.RuleIds.Count);
        _timer = timeProvider.CreateTimer(static state => ((PolicyProvider)state!).OnQuiet(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (watch)
        {
            _watcher = CreateWatcher();
        }
    }

    /// <summary>Raised after the served policy changed version (not for a re-read of identical files).</summary>
    public event EventHandler<PolicyVersionChangedEventArgs>? VersionChanged;

    /// <summary>The policy to evaluate with. Read it once per request.</summary>
    public CompiledPolicy Current => Volatile.Read(ref _current);

    /// <summary>The watched path (full path).</summary>
    public string PolicyPath => _path;

    /// <summary>
    /// Re-reads the policy now. If it is valid and different, it replaces the current one and
    /// <see cref="VersionChanged"/> is raised; if invalid, every error is logged and returned and the
    /// current policy stays. For the admin API and for tests.
    /// </summary>
    public PolicyLoadResult Reload()
    {
        PolicyLoadResult result;
        CompiledPolicy previous;
        lock (_reloadLock)
        {
            previous = _current;
            result = PolicyLoader.LoadPath(_path, _options);
            if (result.Policy is null)
            {
                PolicyLog.PolicyRejected(_logger, _path, result.Errors.Count, previous.Version);
                PolicyLog.Errors(_logger, result.Errors);
                return result;
            }

            if (result.Policy.Version == previous.Version)
            {
                PolicyLog.PolicyUnchanged(_logger, _path, previous.Version);
                return result;
            }

            Volatile.Write(ref _current, result.Policy);
            PolicyLog.PolicyVersionChanged(_logger, previous.Version, result.Policy.Version);
            PolicyLog.PolicyLoaded(_logger, result.Policy.Version, _path, result.Policy.RuleIds.Count);
        }

        // Outside the lock: a slow subscriber (publishing to the fleet) must not block the next reload.
        try
        {
            VersionChanged?.Invoke(this, new PolicyVersionChangedEventArgs(previous, result.Policy));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            PolicyLog.PolicyVersionHandlerFailed(_logger, result.Policy.Version, ex);
        }

        return result;
    }

    /// <summary>Stops watching.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _watcher?.Dispose();
        _timer.Dispose();
    }

    private FileSystemWatcher CreateWatcher()
    {
        // Watch the folder, not the file: editors that save by writing a temporary file and renaming
        // it over the original (vim, many IDEs, Kubernetes ConfigMap symlink swaps) replace the file,
        // which a watcher on the file itself would lose.
        bool isFile = File.Exists(_path);
        string folder = isFile ? Path.GetDirectoryName(_path)! : _path;
        var watcher = new FileSystemWatcher(folder)
        {
            IncludeSubdirectories = false,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };

        // Any change in the folder re-reads the policy: the content hash makes a re-read of unchanged
        // files a no-op, which is simpler and safer than guessing which names matter.
        watcher.Changed += OnChanged;
        watcher.Created += OnChanged;
        watcher.Deleted += OnChanged;
        watcher.Renamed += OnChanged;
        watcher.Error += OnError;
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private void OnChanged(object sender, FileSystemEventArgs e) => Schedule();

    private void OnError(object sender, ErrorEventArgs e)
    {
        PolicyLog.PolicyWatcherError(_logger, _path, e.GetException());
        Schedule();
    }

    /// <summary>Restarts the quiet period: a burst of events (one save is often several) causes one reload.</summary>
    private void Schedule()
    {
        if (!_disposed)
        {
            _timer.Change(_debounce, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Called by the debounce timer, and by tests that drive the watcher directly.</summary>
    internal void NotifyChanged() => Schedule();

    private void OnQuiet()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            Reload();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A timer callback that throws would take the process down; the old policy keeps serving.
            PolicyLog.PolicyReloadFailed(_logger, _path, Current.Version, ex);
        }
    }
}
