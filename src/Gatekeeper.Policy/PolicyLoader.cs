using Gatekeeper.Policy.Internal;

namespace Gatekeeper.Policy;

/// <summary>One problem in a policy, with where it is and what to do about it.</summary>
/// <param name="File">Path of the file (as given to the loader), or the policy path for errors about the whole policy.</param>
/// <param name="Line">1-based line; 0 when the error is about the whole file.</param>
/// <param name="Column">1-based column; 0 when the error is about the whole file.</param>
/// <param name="Message">What is wrong and what to do.</param>
public sealed record PolicyError(string File, int Line, int Column, string Message)
{
    /// <summary>The compiler-style form <c>file:line:col: message</c> that editors understand.</summary>
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>The result of loading a policy: a compiled policy, or every error found (never both).</summary>
public sealed class PolicyLoadResult
{
    internal PolicyLoadResult(CompiledPolicy? policy, IReadOnlyList<PolicyError> errors)
    {
        Policy = policy;
        Errors = errors;
    }

    /// <summary>The compiled policy, or null when there are errors.</summary>
    public CompiledPolicy? Policy { get; }

    /// <summary>Every error found, in file order; empty when the policy is valid.</summary>
    public IReadOnlyList<PolicyError> Errors { get; }

    /// <summary>True when the policy compiled.</summary>
    public bool IsValid => Policy is not null;
}

/// <summary>Limits that keep a hostile or broken policy file from exhausting the process.</summary>
public sealed class PolicyLoaderOptions
{
    /// <summary>Default for <see cref="MaxFileBytes"/>: 4 MiB.</summary>
    public const long DefaultMaxFileBytes = 4L * 1024 * 1024;

    /// <summary>Default for <see cref="MaxTotalBytes"/>: 16 MiB.</summary>
    public const long DefaultMaxTotalBytes = 16L * 1024 * 1024;

    /// <summary>Default for <see cref="MaxDepth"/>: 32 levels.</summary>
    public const int DefaultMaxDepth = 32;

    /// <summary>Default for <see cref="MaxIndexEntries"/>: 16 million (rule, purpose, recipient, category) entries.</summary>
    public const long DefaultMaxIndexEntries = 16_000_000;

    /// <summary>Shared default instance.</summary>
    public static readonly PolicyLoaderOptions Default = new();

    /// <summary>Largest single file read. Defaults to 4 MiB.</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>Largest total of all files of one policy. Defaults to 16 MiB.</summary>
    public long MaxTotalBytes { get; init; } = DefaultMaxTotalBytes;

    /// <summary>Deepest YAML nesting accepted. Defaults to 32 (the format itself needs 6).</summary>
    public int MaxDepth { get; init; } = DefaultMaxDepth;

    /// <summary>
    /// Largest index the compiler will build (sum over rules of purposes x recipients x categories,
    /// plus the cell table). Defaults to 16 million.
    /// </summary>
    public long MaxIndexEntries { get; init; } = DefaultMaxIndexEntries;
}

/// <summary>Reads, validates and compiles policy files.</summary>
public static class PolicyLoader
{
    /// <summary>File name suffix of policy test files, which the loader skips.</summary>
    public const string TestFileSuffix = ".tests.yaml";

    /// <summary>
    /// Loads a policy from a file, or from every <c>*.yaml</c> file (not <c>*.tests.yaml</c>) directly in a
    /// folder, in ordinal file-name order. Never throws for bad content: every problem is in
    /// <see cref="PolicyLoadResult.Errors"/>.
    /// </summary>
    public static PolicyLoadResult LoadPath(string path) => LoadPath(path, PolicyLoaderOptions.Default);

    /// <summary>As <see cref="LoadPath(string)"/>, with explicit limits.</summary>
    public static PolicyLoadResult LoadPath(string path, PolicyLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<PolicyError>();
        var files = PolicySources.Read(path, options, errors);

        // Syntax errors in any file stop here: compiling the rest would only add follow-on errors
        // (ids "unknown" because the file defining them did not parse).
        var compiled = errors.Count == 0 ? PolicyCompiler.Compile(path, files, options, errors) : null;
        if (errors.Count > 0)
        {
            // Stable order (file, line, column) so that the output reads like a compiler's.
            PolicyError[] sorted = [.. errors.OrderBy(static e => e.File, StringComparer.Ordinal).ThenBy(static e => e.Line).ThenBy(static e => e.Column)];
            return new PolicyLoadResult(null, sorted);
        }

        return new PolicyLoadResult(compiled, []);
    }
}
