using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Gatekeeper.LoadTests;

/// <summary>The end-of-run table, the JSON report and the SVG chart.</summary>
internal static class Reports
{
    private static readonly (string Name, double P)[] Percentiles = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)];

    public static string Table(RunResult r, IReadOnlyList<(Assertion Assertion, bool Passed, double? Measured)> checks)
    {
        var s = r.Scenario;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"scenario   {s.Name} ({(s.Mode == LoadMode.Open ? $"open loop, {s.Rate:0} calls/s offered" : $"closed loop, {s.Concurrency} callers")}, {s.Connections} connections, {(s.Engine == LoadEngine.Raw ? "raw" : "client")} engine, distinct {s.DistinctShare:P0}, batch {s.BatchShare:P0} x{s.BatchSize})");
        sb.AppendLine(inv, $"target     {r.Target}   measured {r.MeasuredSeconds:0.0}s after {s.Warmup.TotalSeconds:0}s warm-up{(r.Interrupted ? "   (INTERRUPTED)" : string.Empty)}");
        sb.AppendLine();
        sb.AppendLine("  calls   calls/s   decisions/s      p50      p90      p99    p99.9      max   errors");
        sb.Append(inv, $"{r.Calls,7} {r.Rate,9:0} {r.DecisionRate,13:0}");
        foreach (var (_, p) in Percentiles)
        {
            sb.Append(inv, $" {Units.FormatNanos(r.Latency.ValueAtPercentile(p)),8}");
        }

        sb.AppendLine(inv, $" {Units.FormatNanos(r.Latency.Max),8} {r.Errors,8}");
        sb.AppendLine(inv, $"generator CPU: {r.GeneratorCpuPercent:0}% of one core{(r.GeneratorCpuPercent >= 90 ? " (the generator may have set the pace: the rate is a lower bound)" : string.Empty)}");
        if (s.Mode == LoadMode.Open)
        {
            sb.AppendLine(inv, $"generator send lag (included above): p50 {Units.FormatNanos(r.SendLag.ValueAtPercentile(50))}, p99 {Units.FormatNanos(r.SendLag.ValueAtPercentile(99))}, max {Units.FormatNanos(r.SendLag.Max)}");
        }

        if (r.Errors > 0 || r.WarmupErrors > 0)
        {
            sb.AppendLine();
            sb.AppendLine("errors by status:");
            foreach (var (status, count) in r.ErrorsByStatus())
            {
                sb.AppendLine(inv, $"  {status,-20} {count,8}");
            }

            foreach (var (type, count) in r.ClientFailures)
            {
                sb.AppendLine(inv, $"    ({type} {count})");
            }

            if (r.WarmupErrors > 0)
            {
                sb.AppendLine(inv, $"  (during warm-up, not counted: {r.WarmupErrors})");
            }
        }

        if (r.MaxServerRssBytes is { } rss)
        {
            sb.AppendLine(inv, $"server RSS: max {rss / (1024.0 * 1024):0.0} MB while measuring");
        }

        if (checks.Count > 0)
        {
            sb.AppendLine();
            foreach (var (assertion, passed, measured) in checks)
            {
                sb.AppendLine(inv, $"  {(passed ? "PASS" : "FAIL")}  {assertion.Text,-18} measured {assertion.Format(measured)}");
            }
        }

        return sb.ToString();
    }

    public static void WriteJson(Stream stream, RunResult r, IReadOnlyList<(Assertion Assertion, bool Passed, double? Measured)> checks)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        var s = r.Scenario;
        w.WriteStartObject();
        w.WriteString("scenario", s.Name);
        w.WriteString("description", s.Description);
        w.WriteString("target", r.Target.ToString());
        w.WriteString("startedAt", r.StartedAt);
        w.WriteStartObject("settings");
        w.WriteString("mode", s.Mode == LoadMode.Open ? "open" : "closed");
        w.WriteString("engine", s.Engine == LoadEngine.Raw ? "raw" : "client");
        if (s.Mode == LoadMode.Open)
        {
            w.WriteNumber("rate", s.Rate);
        }
        else
        {
            w.WriteNumber("concurrency", s.Concurrency);
        }

        w.WriteNumber("connections", s.Connections);
        w.WriteNumber("durationSeconds", s.Duration.TotalSeconds);
        w.WriteNumber("warmupSeconds", s.Warmup.TotalSeconds);
        w.WriteNumber("distinctShare", s.DistinctShare);
        w.WriteNumber("hotSetSize", s.HotSetSize);
        w.WriteNumber("batchShare", s.BatchShare);
        w.WriteNumber("batchSize", s.BatchSize);
        w.WriteNumber("deadlineMs", s.Deadline.TotalMilliseconds);
        w.WriteNumber("seed", s.Seed);
        w.WriteEndObject();
        w.WriteStartObject("machine");
        w.WriteString("host", Environment.MachineName);
        w.WriteString("os", RuntimeInformation.OSDescription);
        w.WriteString("runtime", RuntimeInformation.FrameworkDescription);
        w.WriteNumber("processors", Environment.ProcessorCount);
        w.WriteEndObject();
        w.WriteStartObject("summary");
        w.WriteNumber("calls", r.Calls);
        w.WriteNumber("decisions", r.Decisions);
        w.WriteNumber("distinctRequests", r.DistinctRequests);
        w.WriteNumber("measuredSeconds", Math.Round(r.MeasuredSeconds, 3));
        w.WriteNumber("rate", Math.Round(r.Rate, 1));
        w.WriteNumber("decisionRate", Math.Round(r.DecisionRate, 1));
        w.WriteStartObject("latencyMs");
        w.WriteNumber("min", Ms(r.Latency.Min));
        w.WriteNumber("mean", Ms(r.Latency.Mean));
        foreach (var (name, p) in Percentiles)
        {
            w.WriteNumber(name, Ms(r.Latency.ValueAtPercentile(p)));
        }

        w.WriteNumber("max", Ms(r.Latency.Max));
        w.WriteEndObject();
        if (s.Mode == LoadMode.Open)
        {
            w.WriteStartObject("sendLagMs");
            w.WriteNumber("p50", Ms(r.SendLag.ValueAtPercentile(50)));
            w.WriteNumber("p99", Ms(r.SendLag.ValueAtPercentile(99)));
            w.WriteNumber("max", Ms(r.SendLag.Max));
            w.WriteEndObject();
        }

        w.WriteNumber("errors", r.Errors);
        w.WriteStartObject("errorsByStatus");
        foreach (var (status, count) in r.ErrorsByStatus())
        {
            w.WriteNumber(status, count);
        }

        w.WriteEndObject();
        w.WriteNumber("warmupErrors", r.WarmupErrors);
        if (r.MaxServerRssBytes is { } rss)
        {
            w.WriteNumber("maxServerRssMb", Math.Round(rss / (1024.0 * 1024), 1));
        }

        w.WriteNumber("generatorCpuPercent", Math.Round(r.GeneratorCpuPercent, 1));
        w.WriteBoolean("interrupted", r.Interrupted);
        w.WriteEndObject();
        w.WriteStartArray("assertions");
        foreach (var (assertion, passed, measured) in checks)
        {
            w.WriteStartObject();
            w.WriteString("target", assertion.Text);
            w.WriteBoolean("passed", passed);
            w.WriteString("measured", assertion.Format(measured));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("timeline");
        foreach (var p in r.Timeline)
        {
            w.WriteStartObject();
            w.WriteNumber("second", p.Second);
            w.WriteBoolean("warmup", p.Warmup);
            w.WriteNumber("calls", p.Calls);
            w.WriteNumber("errors", p.Errors);
            w.WriteNumber("p50Ms", Ms(p.P50));
            w.WriteNumber("p90Ms", Ms(p.P90));
            w.WriteNumber("p99Ms", Ms(p.P99));
            w.WriteNumber("maxMs", Ms(p.Max));
            if (p.ServerRssBytes is { } b)
            {
                w.WriteNumber("serverRssMb", Math.Round(b / (1024.0 * 1024), 1));
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// Two panels over time: latency percentiles (log scale, so p50 and max are both readable) and calls per
    /// second, plus the server's RSS when it was sampled. Warm-up seconds are shaded.
    /// </summary>
    public static string Svg(RunResult r)
    {
        const int width = 960, left = 70, right = 70, plotWidth = width - left - right;
        const int topY = 40, topH = 260, bottomY = 350, bottomH = 180, height = 580;
        var points = r.Timeline;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.AppendLine(inv, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        sb.AppendLine(inv, $"<text x=\"{left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Escape(r.Scenario.Name)}: latency percentiles and throughput per second ({r.Rate:0} calls/s, p99 {Units.FormatNanos(r.Latency.ValueAtPercentile(99))} overall)</text>");
        var seconds = Math.Max(1, points.Count);
        double X(double second) => left + (plotWidth * second / seconds);

        // Warm-up shading over both panels.
        var warm = 0;
        while (warm < points.Count && points[warm].Warmup)
        {
            warm++;
        }

        if (warm > 0)
        {
            sb.AppendLine(inv, $"<rect x=\"{left}\" y=\"{topY}\" width=\"{X(warm) - left:0.#}\" height=\"{bottomY + bottomH - topY}\" fill=\"#eeeeee\"/>");
            sb.AppendLine(inv, $"<text x=\"{left + 4}\" y=\"{topY + 12}\" fill=\"#777\">warm-up</text>");
        }

        // Latency panel: log10 scale of milliseconds, from a decade below the smallest p50 to a decade above the largest max.
        double minMs = double.MaxValue, maxMs = 0;
        foreach (var p in points)
        {
            if (p.Calls > 0)
            {
                minMs = Math.Min(minMs, Math.Max(Ms(p.P50), 0.001));
                maxMs = Math.Max(maxMs, Ms(p.Max));
            }
        }

        if (maxMs <= 0)
        {
            minMs = 0.1;
            maxMs = 10;
        }

        var lo = Math.Floor(Math.Log10(minMs));
        var hi = Math.Max(lo + 1, Math.Ceiling(Math.Log10(maxMs)));
        double YLat(double ms) => topY + topH - (topH * (Math.Log10(Math.Max(ms, Math.Pow(10, lo))) - lo) / (hi - lo));
        Axes(sb, left, topY, plotWidth, topH);
        for (var d = lo; d <= hi; d++)
        {
            var y = YLat(Math.Pow(10, d));
            sb.AppendLine(inv, $"<line x1=\"{left}\" y1=\"{y:0.#}\" x2=\"{left + plotWidth}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/>");
            sb.AppendLine(inv, $"<text x=\"{left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{FormatMs(Math.Pow(10, d))}</text>");
        }

        sb.AppendLine(inv, $"<text x=\"16\" y=\"{topY + (topH / 2)}\" transform=\"rotate(-90 16 {topY + (topH / 2)})\" text-anchor=\"middle\">latency (log)</text>");
        (string Name, string Colour, Func<TimelinePoint, long> Value)[] series =
        [
            ("p50", "#1f77b4", static p => p.P50),
            ("p90", "#2ca02c", static p => p.P90),
            ("p99", "#ff7f0e", static p => p.P99),
            ("max", "#d62728", static p => p.Max),
        ];
        for (var i = 0; i < series.Length; i++)
        {
            var (name, colour, value) = series[i];
            sb.Append(inv, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"");
            foreach (var p in points)
            {
                if (p.Calls > 0)
                {
                    sb.Append(inv, $"{X(p.Second + 0.5):0.#},{YLat(Ms(value(p))):0.#} ");
                }
            }

            sb.AppendLine("\"/>");
            var lx = left + plotWidth - 240 + (i * 60);
            sb.AppendLine(inv, $"<rect x=\"{lx}\" y=\"{topY - 14}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{lx + 14}\" y=\"{topY - 5}\">{name}</text>");
        }

        // Throughput panel, with RSS on a right-hand axis when sampled.
        long maxCalls = 1;
        long maxRss = 0;
        foreach (var p in points)
        {
            maxCalls = Math.Max(maxCalls, p.Calls);
            maxRss = Math.Max(maxRss, p.ServerRssBytes ?? 0);
        }

        var callsTop = NiceCeiling(maxCalls);
        double YCalls(double calls) => bottomY + bottomH - (bottomH * calls / callsTop);
        Axes(sb, left, bottomY, plotWidth, bottomH);
        for (var k = 0; k <= 4; k++)
        {
            var v = callsTop * k / 4.0;
            var y = YCalls(v);
            sb.AppendLine(inv, $"<line x1=\"{left}\" y1=\"{y:0.#}\" x2=\"{left + plotWidth}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/>");
            sb.AppendLine(inv, $"<text x=\"{left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{v:0}</text>");
        }

        sb.AppendLine(inv, $"<text x=\"16\" y=\"{bottomY + (bottomH / 2)}\" transform=\"rotate(-90 16 {bottomY + (bottomH / 2)})\" text-anchor=\"middle\">calls/s</text>");
        sb.Append("<polyline fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" points=\"");
        foreach (var p in points)
        {
            sb.Append(inv, $"{X(p.Second + 0.5):0.#},{YCalls(p.Calls):0.#} ");
        }

        sb.AppendLine("\"/>");
        foreach (var p in points)
        {
            if (p.Errors > 0)
            {
                sb.AppendLine(inv, $"<circle cx=\"{X(p.Second + 0.5):0.#}\" cy=\"{YCalls(p.Errors):0.#}\" r=\"2.5\" fill=\"#d62728\"><title>{p.Errors} errors</title></circle>");
            }
        }

        if (maxRss > 0)
        {
            var rssTop = NiceCeiling((long)Math.Ceiling(maxRss / (1024.0 * 1024)));
            double YRss(double mb) => bottomY + bottomH - (bottomH * mb / rssTop);
            sb.Append("<polyline fill=\"none\" stroke=\"#9467bd\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\" points=\"");
            foreach (var p in points)
            {
                if (p.ServerRssBytes is { } b)
                {
                    sb.Append(inv, $"{X(p.Second + 0.5):0.#},{YRss(b / (1024.0 * 1024)):0.#} ");
                }
            }

            sb.AppendLine("\"/>");
            for (var k = 0; k <= 4; k++)
            {
                var v = rssTop * k / 4.0;
                sb.AppendLine(inv, $"<text x=\"{left + plotWidth + 6}\" y=\"{YRss(v) + 4:0.#}\" fill=\"#9467bd\">{v:0} MB</text>");
            }

            sb.AppendLine(inv, $"<text x=\"{left + plotWidth - 160}\" y=\"{bottomY - 5}\" fill=\"#9467bd\">- - server RSS</text>");
        }

        sb.AppendLine(inv, $"<text x=\"{left + plotWidth - 60}\" y=\"{bottomY - 5}\">— calls/s</text>");

        // Time axis under the lower panel.
        var step = Math.Max(1, (int)NiceCeiling(Math.Max(1, seconds / 10)));
        for (var t = 0; t <= seconds; t += step)
        {
            var x = X(t);
            sb.AppendLine(inv, $"<line x1=\"{x:0.#}\" y1=\"{bottomY + bottomH}\" x2=\"{x:0.#}\" y2=\"{bottomY + bottomH + 4}\" stroke=\"#333\"/>");
            sb.AppendLine(inv, $"<text x=\"{x:0.#}\" y=\"{bottomY + bottomH + 16}\" text-anchor=\"middle\">{t}s</text>");
        }

        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static void Axes(StringBuilder sb, int x, int y, int w, int h) =>
        sb.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#333\"/>");

    private static long NiceCeiling(long value)
    {
        var magnitude = (long)Math.Pow(10, Math.Floor(Math.Log10(Math.Max(1, value))));
        foreach (var m in (ReadOnlySpan<long>)[1, 2, 5, 10])
        {
            if (m * magnitude >= value)
            {
                return m * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string FormatMs(double ms) => ms < 1
        ? (ms * 1000).ToString("0.##", CultureInfo.InvariantCulture) + "us"
        : ms.ToString("0.##", CultureInfo.InvariantCulture) + "ms";

    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static double Ms(double nanos) => Math.Round(nanos / 1e6, 4);
}
