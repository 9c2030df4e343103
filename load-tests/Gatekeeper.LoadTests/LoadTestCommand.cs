using System.Globalization;

namespace Gatekeeper.LoadTests;

/// <summary>The command line: read the scenario, apply overrides, run, print the table, write the reports, judge the targets.</summary>
internal static class LoadTestCommand
{
    public const int Passed = 0;
    public const int UsageError = 1;
    public const int TargetsMissed = 2;

    public const string Usage = """
        usage: Gatekeeper.LoadTests <scenario.json> [options]
          --target URL         server to load (default http://127.0.0.1:5000; 127.0.0.1 only: load stays local)
          --mode open|closed   open: Poisson arrivals at --rate; closed: --concurrency callers
          --engine client|raw  client: Gatekeeper.Client (HttpClient); raw: one thread, HTTP/2 frames (Linux)
          --rate N             open loop: calls per second offered
          --concurrency N      closed loop: callers
          --connections N      HTTP/2 connections
          --duration T         measured time (30s, 2m, ...)
          --warmup T           warm-up before measuring (not counted)
          --distinct F         share of never-seen requests (0-1): the cache-miss rate
          --batch-share F      share of DecideBatch calls (0-1)
          --name NAME          report name (default: the scenario's name)
          --out DIR            write NAME.json and NAME.svg there (default: .)
          --server-pid PID     sample this local process's RSS every second (soak)
          --assert LIST        targets, e.g. p99<5ms,rate>=20000,errors=0; a miss exits with 2
          --seed N             request mix seed
          --quiet              no progress line
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        Scenario scenario;
        Options options;
        try
        {
            options = Options.Parse(args);
            scenario = Scenario.Load(options.ScenarioFile);
            options.ApplyTo(scenario);
            var errors = scenario.Validate();
            if (scenario.Engine == LoadEngine.Raw && options.Target.Scheme != Uri.UriSchemeHttp)
            {
                errors.Add("engine: \"raw\" speaks plain-text HTTP/2 only; use --engine client for an https target");
            }

            if (errors.Count > 0)
            {
                throw new FormatException(string.Join(Environment.NewLine, errors));
            }
        }
        catch (Exception ex) when (ex is FormatException or IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync(ex.Message);
            await stderr.WriteLineAsync(Usage);
            return UsageError;
        }

        var progress = options.Quiet ? null : new ProgressLine(stderr);
        RunResult result;
        using (var runner = new LoadRunner(scenario, options.Target, progress, options.ServerPid))
        {
            result = await runner.RunAsync(cancellationToken);
        }

        progress?.Finish();
        var checks = new List<(Assertion, bool, double?)>();
        foreach (var assertion in options.Assertions)
        {
            var passed = assertion.Holds(result, out var measured);
            checks.Add((assertion, passed, measured));
        }

        await stdout.WriteAsync(Reports.Table(result, checks));
        var name = options.Name ?? scenario.Name;
        Directory.CreateDirectory(options.OutDirectory);
        var jsonPath = Path.Combine(options.OutDirectory, name + ".json");
        await using (var json = File.Create(jsonPath))
        {
            Reports.WriteJson(json, result, checks);
        }

        var svgPath = Path.Combine(options.OutDirectory, name + ".svg");
        await File.WriteAllTextAsync(svgPath, Reports.Svg(result), cancellationToken);
        await stdout.WriteLineAsync($"reports: {jsonPath} {svgPath}");
        foreach (var (_, passed, _) in checks)
        {
            if (!passed)
            {
                return TargetsMissed;
            }
        }

        return Passed;
    }

    private sealed class Options
    {
        public string ScenarioFile { get; private set; } = string.Empty;
        public Uri Target { get; private set; } = new("http://127.0.0.1:5000");
        public string OutDirectory { get; private set; } = ".";
        public string? Name { get; private set; }
        public int? ServerPid { get; private set; }
        public bool Quiet { get; private set; }
        public IReadOnlyList<Assertion> Assertions { get; private set; } = [];
        private readonly Dictionary<string, string> _overrides = new(StringComparer.Ordinal);

        public static Options Parse(string[] args)
        {
            var o = new Options();
            var errors = new List<string>();
            for (var i = 0; i < args.Length; i++)
            {
                var a = args[i];
                if (!a.StartsWith("--", StringComparison.Ordinal))
                {
                    if (o.ScenarioFile.Length == 0)
                    {
                        o.ScenarioFile = a;
                    }
                    else
                    {
                        errors.Add($"unexpected argument '{a}'");
                    }

                    continue;
                }

                if (a == "--quiet")
                {
                    o.Quiet = true;
                    continue;
                }

                if (i + 1 >= args.Length)
                {
                    errors.Add($"{a} needs a value");
                    break;
                }

                var v = args[++i];
                switch (a)
                {
                    case "--target":
                        if (Uri.TryCreate(v, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                        {
                            // House rule: load and stress traffic only ever goes to this machine.
                            if (uri.Host is "127.0.0.1" or "localhost" or "[::1]")
                            {
                                o.Target = uri;
                            }
                            else
                            {
                                errors.Add($"--target: only 127.0.0.1 / localhost may be loaded (got {uri.Host})");
                            }
                        }
                        else
                        {
                            errors.Add($"--target: an http:// or https:// address (got '{v}')");
                        }

                        break;
                    case "--out": o.OutDirectory = v; break;
                    case "--name": o.Name = v; break;
                    case "--server-pid":
                        if (int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                        {
                            o.ServerPid = pid;
                        }
                        else
                        {
                            errors.Add("--server-pid: a process id");
                        }

                        break;
                    case "--assert":
                        try
                        {
                            o.Assertions = Assertion.ParseList(v);
                        }
                        catch (FormatException ex)
                        {
                            errors.Add(ex.Message);
                        }

                        break;
                    case "--mode" or "--engine" or "--rate" or "--concurrency" or "--connections" or "--duration" or "--warmup" or "--distinct" or "--batch-share" or "--seed":
                        o._overrides[a] = v;
                        break;
                    default:
                        errors.Add($"unknown option {a}");
                        break;
                }
            }

            if (o.ScenarioFile.Length == 0)
            {
                errors.Add("a scenario file is required");
            }

            if (errors.Count > 0)
            {
                throw new FormatException(string.Join(Environment.NewLine, errors));
            }

            return o;
        }

        public void ApplyTo(Scenario scenario)
        {
            var errors = new List<string>();
            foreach (var (option, value) in _overrides)
            {
                switch (option)
                {
                    case "--mode":
                        scenario.Mode = value switch
                        {
                            "open" => LoadMode.Open,
                            "closed" => LoadMode.Closed,
                            _ => Fail(errors, "--mode: open or closed", scenario.Mode),
                        };
                        break;
                    case "--engine": scenario.Engine = Scenario.ParseEngine(value, option, errors, scenario.Engine); break;
                    case "--rate": scenario.Rate = Number(value, option, errors); break;
                    case "--concurrency": scenario.Concurrency = (int)Number(value, option, errors); break;
                    case "--connections": scenario.Connections = (int)Number(value, option, errors); break;
                    case "--distinct": scenario.DistinctShare = Number(value, option, errors); break;
                    case "--batch-share": scenario.BatchShare = Number(value, option, errors); break;
                    case "--seed": scenario.Seed = (int)Number(value, option, errors); break;
                    case "--duration": scenario.Duration = Time(value, option, errors); break;
                    case "--warmup": scenario.Warmup = Time(value, option, errors); break;
                }
            }

            if (errors.Count > 0)
            {
                throw new FormatException(string.Join(Environment.NewLine, errors));
            }
        }

        private static T Fail<T>(List<string> errors, string message, T keep)
        {
            errors.Add(message);
            return keep;
        }

        private static double Number(string value, string option, List<string> errors)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
            {
                return n;
            }

            errors.Add($"{option}: a number (got '{value}')");
            return 0;
        }

        private static TimeSpan Time(string value, string option, List<string> errors)
        {
            if (Units.TryParseTime(value, out var t))
            {
                return t;
            }

            errors.Add($"{option}: a time such as 30s (got '{value}')");
            return TimeSpan.Zero;
        }
    }
}

/// <summary>The live progress line: rewritten in place on a terminal, one line every 5 seconds in a log.</summary>
internal sealed class ProgressLine(TextWriter writer) : IProgress<string>
{
    private readonly bool _inPlace = ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected;
    private int _reports;

    public void Report(string value)
    {
        if (_inPlace)
        {
            writer.Write("\r" + value + "   ");
        }
        else if (_reports % 5 == 0)
        {
            writer.WriteLine(value);
        }

        _reports++;
    }

    public void Finish()
    {
        if (_inPlace)
        {
            writer.WriteLine();
        }
    }
}
