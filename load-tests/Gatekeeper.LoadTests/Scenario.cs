using System.Globalization;
using System.Text.Json;

namespace Gatekeeper.LoadTests;

/// <summary>Open loop: calls arrive at a target rate whatever the server does. Closed loop: N callers, each waits for its answer.</summary>
internal enum LoadMode
{
    Open,
    Closed,
}

/// <summary>
/// How calls go on the wire. Client: <c>Gatekeeper.Client</c>, as the council's .NET services call (HttpClient, a
/// thread-pool hop per answer). Raw: one thread writing pre-encoded HTTP/2 frames and reading the answers itself
/// (Linux, http only), cheap enough that on one core the generator is not what sets the pace or the tail.
/// </summary>
internal enum LoadEngine
{
    Client,
    Raw,
}

/// <summary>
/// One load test: the traffic (request mix, share of never-seen requests, share of DecideBatch), its shape
/// (open or closed loop) and how long it runs. Read from a JSON file (comments allowed) under load-tests/scenarios/.
/// </summary>
internal sealed class Scenario
{
    public const int DefaultConnections = 4;
    public const int DefaultHotSetSize = 500;
    public const int DefaultMaxInFlight = 4096;
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultWarmup = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(5);

    public string Name { get; set; } = "unnamed";
    public string Description { get; set; } = string.Empty;
    public LoadMode Mode { get; set; } = LoadMode.Closed;

    public LoadEngine Engine { get; set; } = LoadEngine.Client;

    /// <summary>Open loop: calls per second (Poisson arrivals).</summary>
    public double Rate { get; set; }

    /// <summary>Closed loop: callers, each with one call in flight.</summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>HTTP/2 connections (one client each, calls spread round-robin). More open when a connection's streams run out.</summary>
    public int Connections { get; set; } = DefaultConnections;

    public TimeSpan Duration { get; set; } = DefaultDuration;
    public TimeSpan Warmup { get; set; } = DefaultWarmup;

    /// <summary>Deadline sent with every call (grpc-timeout).</summary>
    public TimeSpan Deadline { get; set; } = DefaultDeadline;

    /// <summary>Open loop: calls allowed in flight before arrivals wait (their latency still counts from the intended time).</summary>
    public int MaxInFlight { get; set; } = DefaultMaxInFlight;

    /// <summary>Share (0-1) of requests never sent before: each is a cache miss in L1 and L2.</summary>
    public double DistinctShare { get; set; }

    /// <summary>The repeated requests are drawn from this many prepared ones (warmed up, so they hit L1).</summary>
    public int HotSetSize { get; set; } = DefaultHotSetSize;

    /// <summary>Share (0-1) of calls that are DecideBatch.</summary>
    public double BatchShare { get; set; }

    /// <summary>Requests per DecideBatch call.</summary>
    public int BatchSize { get; set; } = 10;

    public int Seed { get; set; } = 7;

    public RequestWeights Weights { get; set; } = new();

    /// <summary>Every problem with the settings, not just the first.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (Mode == LoadMode.Open && !(Rate > 0))
        {
            errors.Add("rate: an open-loop scenario needs a rate above 0 (calls per second)");
        }

        if (Mode == LoadMode.Closed && Concurrency < 1)
        {
            errors.Add("concurrency: a closed-loop scenario needs at least 1 caller");
        }

        if (Engine == LoadEngine.Raw && !OperatingSystem.IsLinux())
        {
            errors.Add("engine: \"raw\" needs Linux (it waits with ppoll); use \"client\"");
        }

        if (Connections is < 1 or > 256)
        {
            errors.Add("connections: 1 to 256");
        }

        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromHours(2))
        {
            errors.Add("duration: above 0 and at most 2h (load runs are bounded)");
        }

        if (Warmup < TimeSpan.Zero || Warmup > TimeSpan.FromMinutes(10))
        {
            errors.Add("warmup: 0 to 10m");
        }

        if (Deadline <= TimeSpan.Zero)
        {
            errors.Add("deadline: above 0");
        }

        if (MaxInFlight < 1)
        {
            errors.Add("maxInFlight: at least 1");
        }

        if (DistinctShare is < 0 or > 1 || double.IsNaN(DistinctShare))
        {
            errors.Add("distinctShare: 0 to 1");
        }

        if (BatchShare is < 0 or > 1 || double.IsNaN(BatchShare))
        {
            errors.Add("batch.share: 0 to 1");
        }

        if (BatchSize is < 1 or > 100)
        {
            errors.Add("batch.size: 1 to 100 (the server's limit)");
        }

        if (HotSetSize < 1)
        {
            errors.Add("hotSetSize: at least 1");
        }

        Weights.Validate(errors);
        return errors;
    }

    /// <summary>Reads a scenario file; throws <see cref="FormatException"/> listing every problem.</summary>
    public static Scenario Load(string file)
    {
        var text = File.ReadAllText(file);
        var scenario = Parse(text, Path.GetFileNameWithoutExtension(file));
        return scenario;
    }

    public static Scenario Parse(string json, string defaultName)
    {
        var errors = new List<string>();
        var scenario = new Scenario { Name = defaultName };
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("A scenario is a JSON object.");
        }

        foreach (var property in doc.RootElement.EnumerateObject())
        {
            var v = property.Value;
            switch (property.Name)
            {
                case "name": scenario.Name = Text(v, property.Name, errors) ?? scenario.Name; break;
                case "description": scenario.Description = Text(v, property.Name, errors) ?? string.Empty; break;
                case "mode":
                    var mode = Text(v, property.Name, errors);
                    if (mode is "open" or "closed")
                    {
                        scenario.Mode = mode == "open" ? LoadMode.Open : LoadMode.Closed;
                    }
                    else
                    {
                        errors.Add("mode: \"open\" or \"closed\"");
                    }

                    break;
                case "engine":
                    scenario.Engine = ParseEngine(Text(v, property.Name, errors), "engine", errors, scenario.Engine);
                    break;
                case "rate": scenario.Rate = Number(v, property.Name, errors); break;
                case "concurrency": scenario.Concurrency = (int)Number(v, property.Name, errors); break;
                case "connections": scenario.Connections = (int)Number(v, property.Name, errors); break;
                case "duration": scenario.Duration = Time(v, property.Name, errors); break;
                case "warmup": scenario.Warmup = Time(v, property.Name, errors); break;
                case "deadline": scenario.Deadline = Time(v, property.Name, errors); break;
                case "maxInFlight": scenario.MaxInFlight = (int)Number(v, property.Name, errors); break;
                case "distinctShare": scenario.DistinctShare = Number(v, property.Name, errors); break;
                case "hotSetSize": scenario.HotSetSize = (int)Number(v, property.Name, errors); break;
                case "seed": scenario.Seed = (int)Number(v, property.Name, errors); break;
                case "batch":
                    if (v.ValueKind != JsonValueKind.Object)
                    {
                        errors.Add("batch: an object { \"share\": 0.1, \"size\": 10 }");
                        break;
                    }

                    foreach (var b in v.EnumerateObject())
                    {
                        switch (b.Name)
                        {
                            case "share": scenario.BatchShare = Number(b.Value, "batch.share", errors); break;
                            case "size": scenario.BatchSize = (int)Number(b.Value, "batch.size", errors); break;
                            default: errors.Add($"batch.{b.Name}: unknown setting (share, size)"); break;
                        }
                    }

                    break;
                case "weights": scenario.Weights = RequestWeights.Parse(v, errors); break;
                default: errors.Add($"{property.Name}: unknown setting"); break;
            }
        }

        errors.AddRange(scenario.Validate());
        if (errors.Count > 0)
        {
            throw new FormatException(string.Join(Environment.NewLine, errors));
        }

        return scenario;
    }

    internal static LoadEngine ParseEngine(string? text, string name, List<string> errors, LoadEngine current)
    {
        switch (text)
        {
            case "client": return LoadEngine.Client;
            case "raw": return LoadEngine.Raw;
            default:
                errors.Add($"{name}: \"client\" or \"raw\"");
                return current;
        }
    }

    internal static string? Text(JsonElement v, string name, List<string> errors)
    {
        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }

        errors.Add($"{name}: a string");
        return null;
    }

    internal static double Number(JsonElement v, string name, List<string> errors)
    {
        if (v.ValueKind == JsonValueKind.Number)
        {
            return v.GetDouble();
        }

        errors.Add($"{name}: a number");
        return 0;
    }

    private static TimeSpan Time(JsonElement v, string name, List<string> errors)
    {
        if (v.ValueKind == JsonValueKind.String && Units.TryParseTime(v.GetString()!, out var t))
        {
            return t;
        }

        errors.Add($"{name}: a time such as \"30s\", \"500ms\" or \"2m\"");
        return TimeSpan.Zero;
    }
}

/// <summary>
/// Relative weights of each part of a request. A map absent means uniform over the taxonomy; within a map,
/// <c>"*"</c> is the weight of every taxonomy id the map does not name (default 0 once the map exists).
/// Statuses are independent probabilities; subjectRequest is a probability.
/// </summary>
internal sealed class RequestWeights
{
    public Dictionary<string, double>? Category { get; set; }
    public Dictionary<string, double>? Recipient { get; set; }
    public Dictionary<string, double>? Purpose { get; set; }
    public Dictionary<string, double>? Form { get; set; }
    public Dictionary<string, double>? Consent { get; set; }
    public Dictionary<string, double>? SubjectStatuses { get; set; }
    public Dictionary<string, double>? DestinationCountry { get; set; }
    public Dictionary<string, double>? SubjectIsMinor { get; set; }
    public double SubjectRequest { get; set; }

    public void Validate(List<string> errors)
    {
        CheckMap(Category, "weights.category", null, errors);
        CheckMap(Recipient, "weights.recipient", null, errors);
        CheckMap(Purpose, "weights.purpose", null, errors);
        CheckMap(Form, "weights.form", Taxonomy.Forms, errors);
        CheckMap(Consent, "weights.consent", Taxonomy.Consents, errors);
        CheckMap(SubjectIsMinor, "weights.subjectIsMinor", Taxonomy.MinorValues, errors);
        CheckMap(DestinationCountry, "weights.destinationCountry", null, errors);
        if (SubjectStatuses is not null)
        {
            foreach (var (id, p) in SubjectStatuses)
            {
                if (p is < 0 or > 1)
                {
                    errors.Add($"weights.subjectStatuses.{id}: a probability, 0 to 1");
                }
            }
        }

        if (SubjectRequest is < 0 or > 1)
        {
            errors.Add("weights.subjectRequest: a probability, 0 to 1");
        }
    }

    public static RequestWeights Parse(JsonElement v, List<string> errors)
    {
        var weights = new RequestWeights();
        if (v.ValueKind != JsonValueKind.Object)
        {
            errors.Add("weights: an object");
            return weights;
        }

        foreach (var p in v.EnumerateObject())
        {
            var name = "weights." + p.Name;
            switch (p.Name)
            {
                case "category": weights.Category = Map(p.Value, name, errors); break;
                case "recipient": weights.Recipient = Map(p.Value, name, errors); break;
                case "purpose": weights.Purpose = Map(p.Value, name, errors); break;
                case "form": weights.Form = Map(p.Value, name, errors); break;
                case "consent": weights.Consent = Map(p.Value, name, errors); break;
                case "subjectStatuses": weights.SubjectStatuses = Map(p.Value, name, errors); break;
                case "destinationCountry": weights.DestinationCountry = Map(p.Value, name, errors); break;
                case "subjectIsMinor": weights.SubjectIsMinor = Map(p.Value, name, errors); break;
                case "subjectRequest": weights.SubjectRequest = Scenario.Number(p.Value, name, errors); break;
                default: errors.Add($"{name}: unknown setting"); break;
            }
        }

        return weights;
    }

    private static Dictionary<string, double>? Map(JsonElement v, string name, List<string> errors)
    {
        if (v.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{name}: an object of id -> weight");
            return null;
        }

        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
        {
            map[p.Name] = Scenario.Number(p.Value, $"{name}.{p.Name}", errors);
        }

        return map;
    }

    private static void CheckMap(Dictionary<string, double>? map, string name, string[]? closedSet, List<string> errors)
    {
        if (map is null)
        {
            return;
        }

        double total = 0;
        foreach (var (id, w) in map)
        {
            if (w < 0 || double.IsNaN(w))
            {
                errors.Add($"{name}.{id}: a weight of 0 or more");
            }

            if (closedSet is not null && id != "*" && Array.IndexOf(closedSet, id) < 0)
            {
                errors.Add($"{name}.{id}: unknown; use {string.Join(", ", closedSet)}");
            }

            total += w;
        }

        if (!(total > 0))
        {
            errors.Add($"{name}: at least one weight above 0");
        }
    }
}

/// <summary>Times ("500us", "1.5ms", "30s", "2m", "1h"; a bare number is milliseconds) in the scenario files and options.</summary>
internal static class Units
{
    public static bool TryParseTime(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        (string suffix, double scaleMs)[] units = [("us", 0.001), ("µs", 0.001), ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        foreach (var (suffix, scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
                && n >= 0)
            {
                value = TimeSpan.FromMilliseconds(n * scale);
                return true;
            }
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            value = TimeSpan.FromMilliseconds(ms);
            return true;
        }

        return false;
    }

    /// <summary>Nanoseconds as a short human figure: 850us, 1.23ms, 2.5s.</summary>
    public static string FormatNanos(double nanos) => nanos switch
    {
        < 1_000_000 => (nanos / 1000).ToString("0", CultureInfo.InvariantCulture) + "us",
        < 10_000_000 => (nanos / 1_000_000).ToString("0.00", CultureInfo.InvariantCulture) + "ms",
        < 1_000_000_000 => (nanos / 1_000_000).ToString("0.0", CultureInfo.InvariantCulture) + "ms",
        _ => (nanos / 1_000_000_000).ToString("0.00", CultureInfo.InvariantCulture) + "s",
    };
}
