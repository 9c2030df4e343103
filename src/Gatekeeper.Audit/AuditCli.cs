using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Audit;

/// <summary>
/// <c>gatekeeper audit verify | export | purge</c>. The service's Program calls <see cref="Run(string[], string, TextWriter, TextWriter)"/>
/// when its first argument is "audit". All three work while the service runs.
/// </summary>
public static class AuditCli
{
    public const int ExitOk = 0;

    /// <summary>verify found a broken record.</summary>
    public const int ExitBroken = 1;

    public const int ExitUsage = 2;

    /// <summary>The store could not be read or written (missing, locked, wrong key).</summary>
    public const int ExitFailure = 3;

    private const string Usage = """
        usage: audit verify
               audit export [--from ISO8601] [--to ISO8601] [--recipient ID] [--category ID] [--purpose ID]
                            [--decision allow|allow_with_conditions|deny] [--subject REF]
               audit purge  [--before ISO8601] [--force]
          verify  checks the hash chain; exits 1 and names the first broken record.
          export  writes matching records as JSON Lines to stdout (--from inclusive, --to exclusive).
          purge   deletes records older than --before (default: now minus the retention period, 6 years)
                  and signs the cut; --force allows a cut inside the retention period.
        """;

    public static int Run(string[] args, string dataDirectory, TextWriter stdout, TextWriter stderr) =>
        Run(args, new AuditOptions { DataDirectory = dataDirectory }, stdout, stderr, TimeProvider.System, NullLogger.Instance);

    public static int Run(string[] args, AuditOptions options, TextWriter stdout, TextWriter stderr, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);

        // Accept both "audit verify" and "verify", whichever way the host passes its arguments on.
        var rest = args.AsSpan();
        if (rest.Length > 0 && rest[0] == "audit")
        {
            rest = rest[1..];
        }

        if (rest.Length == 0)
        {
            stderr.WriteLine(Usage);
            return ExitUsage;
        }

        if (!TryParseOptions(rest[1..], out var flags, out var error))
        {
            return UsageError(stderr, error);
        }

        try
        {
            return rest[0] switch
            {
                "verify" => Verify(flags, options, stdout, stderr),
                "export" => Export(flags, options, stdout, stderr),
                "purge" => Purge(flags, options, stdout, stderr, timeProvider, logger),
                _ => UsageError(stderr, $"unknown audit command '{rest[0]}'"),
            };
        }
        catch (Exception ex) when (ex is SqliteException or IOException or InvalidOperationException or UnauthorizedAccessException or FormatException)
        {
            stderr.WriteLine($"audit {rest[0]}: {ex.Message}");
            return ExitFailure;
        }
    }

    private static int Verify(Dictionary<string, string?> flags, AuditOptions options, TextWriter stdout, TextWriter stderr)
    {
        if (flags.Count > 0)
        {
            return UsageError(stderr, "verify takes no options");
        }

        var result = AuditVerifier.Verify(options);
        if (result.IsValid)
        {
            stdout.WriteLine(result.ToString());
            return ExitOk;
        }

        stderr.WriteLine(result.ToString());
        return ExitBroken;
    }

    private static int Export(Dictionary<string, string?> flags, AuditOptions options, TextWriter stdout, TextWriter stderr)
    {
        string[] allowed = ["from", "to", "recipient", "category", "purpose", "decision", "subject"];
        if (!CheckAllowed(flags, allowed, stderr)
            || !TryTime(flags, "from", stderr, out var from)
            || !TryTime(flags, "to", stderr, out var to))
        {
            return ExitUsage;
        }

        var decision = flags.GetValueOrDefault("decision");
        if (decision is not null && !AuditDecisions.IsValid(decision))
        {
            return UsageError(stderr, "--decision must be allow, allow_with_conditions or deny");
        }

        var filter = new AuditQueryFilter
        {
            From = from,
            To = to,
            Recipient = flags.GetValueOrDefault("recipient"),
            Category = flags.GetValueOrDefault("category"),
            Purpose = flags.GetValueOrDefault("purpose"),
            Decision = decision,
            Subject = flags.GetValueOrDefault("subject"),
        };
        var count = new AuditQuery(options).ExportJsonLines(filter, stdout);
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exported {count} records"));
        return ExitOk;
    }

    private static int Purge(
        Dictionary<string, string?> flags, AuditOptions options, TextWriter stdout, TextWriter stderr, TimeProvider timeProvider, ILogger logger)
    {
        if (!CheckAllowed(flags, ["before", "force"], stderr) || !TryTime(flags, "before", stderr, out var before))
        {
            return ExitUsage;
        }

        var retentionCut = timeProvider.GetUtcNow() - options.Retention;
        var cut = before ?? retentionCut;
        if (cut > retentionCut && !flags.ContainsKey("force"))
        {
            return UsageError(stderr,
                $"--before {cut:O} would delete records still inside the retention period (cut at {retentionCut:O}); add --force if that is intended");
        }

        var result = AuditRetention.Purge(options, cut, logger, timeProvider);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"purged {result.DeletedRecords} records older than {cut.UtcDateTime:O}; signed cut at sequence {result.CutSequence}"));
        return ExitOk;
    }

    private static bool TryParseOptions(ReadOnlySpan<string> args, out Dictionary<string, string?> flags, out string error)
    {
        flags = new Dictionary<string, string?>(StringComparer.Ordinal);
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                error = $"unexpected argument '{arg}'";
                return false;
            }

            var name = arg[2..];
            string? value = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (name != "force")
            {
                if (i + 1 >= args.Length)
                {
                    error = $"--{name} needs a value";
                    return false;
                }

                value = args[++i];
            }

            if (!flags.TryAdd(name, value))
            {
                error = $"--{name} given twice";
                return false;
            }
        }

        return true;
    }

    private static bool CheckAllowed(Dictionary<string, string?> flags, string[] allowed, TextWriter stderr)
    {
        foreach (var name in flags.Keys)
        {
            if (Array.IndexOf(allowed, name) < 0)
            {
                UsageError(stderr, $"unknown option --{name}");
                return false;
            }
        }

        return true;
    }

    private static bool TryTime(Dictionary<string, string?> flags, string name, TextWriter stderr, out DateTimeOffset? value)
    {
        value = null;
        if (!flags.TryGetValue(name, out var text) || text is null)
        {
            return true;
        }

        // A time without an offset is taken as UTC: the log is in UTC and local time on a server is a trap.
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            UsageError(stderr, $"--{name} '{text}' is not an ISO 8601 time");
            return false;
        }

        value = parsed;
        return true;
    }

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"audit: {message}");
        stderr.WriteLine(Usage);
        return ExitUsage;
    }
}
