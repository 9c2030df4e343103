using System.Globalization;
using Gatekeeper.V1;

namespace Gatekeeper.LoadTests;

/// <summary>A weighted choice among fixed values, drawn by binary search over cumulative weights.</summary>
internal sealed class WeightedChoice<T>
{
    private readonly T[] _values;
    private readonly double[] _cumulative;

    public WeightedChoice(IReadOnlyList<(T Value, double Weight)> entries)
    {
        var values = new List<T>();
        var cumulative = new List<double>();
        double total = 0;
        foreach (var (value, weight) in entries)
        {
            if (weight > 0)
            {
                total += weight;
                values.Add(value);
                cumulative.Add(total);
            }
        }

        if (values.Count == 0)
        {
            throw new ArgumentException("At least one weight must be above 0.", nameof(entries));
        }

        _values = [.. values];
        _cumulative = [.. cumulative];
    }

    public T Next(Random random)
    {
        var x = random.NextDouble() * _cumulative[^1];
        var i = Array.BinarySearch(_cumulative, x);
        i = i < 0 ? ~i : i + 1;
        return _values[Math.Min(i, _values.Length - 1)];
    }

    /// <summary>Taxonomy ids weighted by the map ("*" for the ids it does not name), plus ids only the map names.</summary>
    public static WeightedChoice<string> Over(string[] taxonomy, Dictionary<string, double>? weights)
    {
        var entries = new List<(string, double)>();
        if (weights is null)
        {
            foreach (var id in taxonomy)
            {
                entries.Add((id, 1));
            }

            return new WeightedChoice<string>(entries);
        }

        var other = weights.TryGetValue("*", out var star) ? star : 0;
        foreach (var id in taxonomy)
        {
            entries.Add((id, weights.TryGetValue(id, out var w) ? w : other));
        }

        foreach (var (id, w) in weights)
        {
            if (id != "*" && Array.IndexOf(taxonomy, id) < 0)
            {
                entries.Add((id, w));
            }
        }

        return new WeightedChoice<string>(entries);
    }
}

/// <summary>
/// The requests of a scenario. Repeated requests come from a hot set prepared up front (the warm-up puts
/// them in the cache); a distinct request is drawn from the same weights and then made new by one extra
/// subject status, <c>lt_&lt;run&gt;_&lt;n&gt;</c>, that no policy rule names: its cache key has never been seen
/// (an L1 and an L2 miss, then an evaluation) while its decision stays that of the drawn request.
/// </summary>
internal sealed class RequestMix
{
    private readonly Scenario _scenario;
    private readonly WeightedChoice<string> _category;
    private readonly WeightedChoice<string> _recipient;
    private readonly WeightedChoice<string> _purpose;
    private readonly WeightedChoice<string> _form;
    private readonly WeightedChoice<string> _consent;
    private readonly WeightedChoice<string> _country;
    private readonly WeightedChoice<string> _minor;
    private readonly (string Id, double P)[] _statuses;
    private readonly DecideRequest[] _hot;
    private readonly string _runTag;
    private long _distinct;

    public RequestMix(Scenario scenario, string runTag)
    {
        _scenario = scenario;
        _runTag = runTag;
        var w = scenario.Weights;
        _category = WeightedChoice<string>.Over(Taxonomy.Categories, w.Category);
        _recipient = WeightedChoice<string>.Over(Taxonomy.Recipients, w.Recipient);
        _purpose = WeightedChoice<string>.Over(Taxonomy.Purposes, w.Purpose);
        _form = WeightedChoice<string>.Over(Taxonomy.Forms, w.Form ?? new() { ["identifiable"] = 1 });
        _consent = WeightedChoice<string>.Over(Taxonomy.Consents, w.Consent ?? new() { ["unknown"] = 1 });
        _country = WeightedChoice<string>.Over([string.Empty], w.DestinationCountry ?? new() { [string.Empty] = 1 });
        _minor = WeightedChoice<string>.Over(Taxonomy.MinorValues, w.SubjectIsMinor ?? new() { ["unknown"] = 1 });
        var statuses = new List<(string, double)>();
        if (w.SubjectStatuses is not null)
        {
            foreach (var (id, p) in w.SubjectStatuses)
            {
                statuses.Add((id, p));
            }
        }

        _statuses = [.. statuses];
        var random = new Random(scenario.Seed);
        _hot = new DecideRequest[scenario.HotSetSize];
        for (var i = 0; i < _hot.Length; i++)
        {
            _hot[i] = Draw(random);
        }
    }

    /// <summary>The prepared requests that repeat (the warm-up sends each once).</summary>
    public IReadOnlyList<DecideRequest> HotSet => _hot;

    /// <summary>Distinct requests made so far.</summary>
    public long DistinctCount => Interlocked.Read(ref _distinct);

    /// <summary>The next request: distinct with the scenario's share, otherwise one of the hot set.</summary>
    public DecideRequest NextRequest(Random random, out bool distinct)
    {
        distinct = _scenario.DistinctShare > 0 && random.NextDouble() < _scenario.DistinctShare;
        if (!distinct)
        {
            return _hot[random.Next(_hot.Length)];
        }

        var request = Draw(random);
        var n = Interlocked.Increment(ref _distinct);
        (request.Context ??= new DecisionContext()).SubjectStatuses.Add(string.Create(CultureInfo.InvariantCulture, $"lt_{_runTag}_{n}"));
        return request;
    }

    /// <summary>A DecideBatch of the scenario's size, each request chosen as by <see cref="NextRequest"/>.</summary>
    public DecideBatchRequest NextBatch(Random random, out int distinctCount)
    {
        var batch = new DecideBatchRequest();
        distinctCount = 0;
        for (var i = 0; i < _scenario.BatchSize; i++)
        {
            batch.Requests.Add(NextRequest(random, out var distinct));
            distinctCount += distinct ? 1 : 0;
        }

        return batch;
    }

    private DecideRequest Draw(Random random)
    {
        var request = new DecideRequest
        {
            Category = _category.Next(random),
            Recipient = _recipient.Next(random),
            Purpose = _purpose.Next(random),
        };
        var context = new DecisionContext
        {
            Form = _form.Next(random) switch
            {
                "pseudonymised" => DataForm.Pseudonymised,
                "anonymised" => DataForm.Anonymised,
                _ => DataForm.Identifiable,
            },
            Consent = _consent.Next(random) switch
            {
                "given" => Consent.Given,
                "refused" => Consent.Refused,
                "withdrawn" => Consent.Withdrawn,
                _ => Consent.Unspecified,
            },
            DestinationCountry = _country.Next(random),
            SubjectRequest = random.NextDouble() < _scenario.Weights.SubjectRequest,
        };
        switch (_minor.Next(random))
        {
            case "true":
                context.SubjectIsMinor = true;
                break;
            case "false":
                context.SubjectIsMinor = false;
                break;
        }

        foreach (var (id, p) in _statuses)
        {
            if (random.NextDouble() < p)
            {
                context.SubjectStatuses.Add(id);
            }
        }

        request.Context = context;
        return request;
    }
}
