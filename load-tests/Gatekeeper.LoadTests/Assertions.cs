using System.Globalization;

namespace Gatekeeper.LoadTests;

/// <summary>
/// Pass/fail targets such as <c>p99&lt;5ms,rate&gt;=20000,errors=0</c>. Metrics: p50, p90, p99, p99.9, max, mean
/// (times: us, ms, s; a bare number is ms), rate (calls/s), decision_rate (decisions/s), errors (count),
/// error_rate (% of calls), rss (the server's largest resident memory while measuring: KB, MB, GB; needs --server-pid).
/// </summary>
internal sealed record Assertion(string Metric, string Operator, double Threshold, string Text)
{
    private static readonly string[] Operators = ["<=", ">=", "==", "!=", "<", ">", "="];
    private static readonly string[] TimeMetrics = ["p50", "p90", "p99", "p99.9", "max", "mean"];

    /// <summary>Parses a comma-separated list; throws <see cref="FormatException"/> naming every bad term.</summary>
    public static IReadOnlyList<Assertion> ParseList(string text)
    {
        var list = new List<Assertion>();
        var errors = new List<string>();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryParse(raw, out var assertion, out var error))
            {
                list.Add(assertion);
            }
            else
            {
                errors.Add(error);
            }
        }

        if (errors.Count > 0)
        {
            throw new FormatException(string.Join(Environment.NewLine, errors));
        }

        return list;
    }

    private static bool TryParse(string raw, out Assertion assertion, out string error)
    {
        assertion = null!;
        error = string.Empty;
        foreach (var op in Operators)
        {
            var at = raw.IndexOf(op, StringComparison.Ordinal);
            if (at <= 0)
            {
                continue;
            }

            var metric = raw[..at].Trim().ToLowerInvariant();
            var value = raw[(at + op.Length)..].Trim();
            double threshold;
            if (Array.IndexOf(TimeMetrics, metric) >= 0)
            {
                if (!Units.TryParseTime(value, out var time))
                {
                    error = $"'{raw}': {metric} needs a time such as 5ms or 800us";
                    return false;
                }

                threshold = time.Ticks * 100.0; // nanoseconds
            }
            else if (metric == "rss")
            {
                if (!TryParseBytes(value, out threshold))
                {
                    error = $"'{raw}': rss needs a size such as 200MB";
                    return false;
                }
            }
            else if (metric is "rate" or "decision_rate" or "errors" or "error_rate")
            {
                if (!double.TryParse(value.TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out threshold))
                {
                    error = $"'{raw}': {metric} needs a number";
                    return false;
                }
            }
            else
            {
                error = $"'{raw}': unknown metric '{metric}' (p50, p90, p99, p99.9, max, mean, rate, decision_rate, errors, error_rate, rss)";
                return false;
            }

            assertion = new Assertion(metric, op == "==" ? "=" : op, threshold, raw);
            return true;
        }

        error = $"'{raw}': expected metric, operator (< <= > >= = !=) and value, e.g. p99<5ms";
        return false;
    }

    private static bool TryParseBytes(string text, out double bytes)
    {
        (string Suffix, double Scale)[] units = [("GB", 1024.0 * 1024 * 1024), ("MB", 1024.0 * 1024), ("KB", 1024.0), ("B", 1)];
        foreach (var (suffix, scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
            {
                bytes = n * scale;
                return true;
            }
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out bytes);
    }

    /// <summary>The measured value, or null when the run cannot tell (rss without --server-pid).</summary>
    public double? Measure(RunResult result) => Metric switch
    {
        "p50" => result.Latency.ValueAtPercentile(50),
        "p90" => result.Latency.ValueAtPercentile(90),
        "p99" => result.Latency.ValueAtPercentile(99),
        "p99.9" => result.Latency.ValueAtPercentile(99.9),
        "max" => result.Latency.Max,
        "mean" => result.Latency.Mean,
        "rate" => result.Rate,
        "decision_rate" => result.DecisionRate,
        "errors" => result.Errors,
        "error_rate" => result.Calls == 0 ? 0 : 100.0 * result.Errors / result.Calls,
        "rss" => result.MaxServerRssBytes,
        _ => null,
    };

    /// <summary>True when the target holds; a metric the run could not measure fails (a target is never passed by default).</summary>
    public bool Holds(RunResult result, out double? measured)
    {
        measured = Measure(result);
        if (measured is not { } v)
        {
            return false;
        }

        // A run without any measured call proves nothing about latency.
        if (result.Calls == 0)
        {
            return false;
        }

        return Operator switch
        {
            "<" => v < Threshold,
            "<=" => v <= Threshold,
            ">" => v > Threshold,
            ">=" => v >= Threshold,
            "=" => v == Threshold,
            "!=" => v != Threshold,
            _ => false,
        };
    }

    /// <summary>The measured value in the unit the target uses.</summary>
    public string Format(double? measured)
    {
        if (measured is not { } v)
        {
            return "n/a";
        }

        if (Array.IndexOf(TimeMetrics, Metric) >= 0)
        {
            return Units.FormatNanos(v);
        }

        return Metric == "rss"
            ? (v / (1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + "MB"
            : v.ToString(Metric == "error_rate" ? "0.###" : "0.##", CultureInfo.InvariantCulture);
    }
}
