using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Gatekeeper.Audit.Internal;

/// <summary>
/// Canonical JSON for the context column: compact, object members sorted ordinally by name, arrays in
/// their given order, numbers kept as written. Two callers that state the same facts in a different key
/// order or layout then produce the same stored text, which keeps searches and exports comparable.
/// </summary>
internal static class ContextCanonicalizer
{
    /// <summary>Distinct contexts remembered; real traffic repeats a few hundred combinations of the same facts.</summary>
    internal const int CacheCapacity = 1_024;

    /// <summary>Longer contexts are canonicalised every time rather than kept.</summary>
    internal const int MaxCachedLength = 1_024;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    // The JSON parse, sort and rewrite was a visible share of each record's CPU, and under load every record costs
    // the single core the service runs on. The result depends only on the input text, so a remembered result is
    // exactly what a fresh parse would give; invalid input is never remembered (it throws every time).
    private static readonly ConcurrentDictionary<string, string> Recent = new(StringComparer.Ordinal);
    private static int _recentCount;

    public static string Canonicalize(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return "{}";
        }

        if (Recent.TryGetValue(json, out var known))
        {
            return known;
        }

        var canonical = CanonicalizeCore(json);
        if (json.Length <= MaxCachedLength)
        {
            // A flood of distinct contexts just starts the cache again: bounded memory, no eviction bookkeeping.
            if (Interlocked.Increment(ref _recentCount) > CacheCapacity)
            {
                Recent.Clear();
                Interlocked.Exchange(ref _recentCount, 1);
            }

            Recent.TryAdd(json, canonical);
        }

        return canonical;
    }

    private static string CanonicalizeCore(string json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("The audit context must be a JSON object.", nameof(json));
        }

        var buffer = new ArrayBufferWriter<byte>(json.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, document.RootElement);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<(JsonProperty Member, int Index)>();
                foreach (var member in element.EnumerateObject())
                {
                    members.Add((member, members.Count));
                }

                // The index tie-break makes the sort stable: duplicate names (legal JSON, odd input) keep their order.
                members.Sort(static (a, b) =>
                {
                    var byName = string.CompareOrdinal(a.Member.Name, b.Member.Name);
                    return byName != 0 ? byName : a.Index.CompareTo(b.Index);
                });
                writer.WriteStartObject();
                foreach (var (member, _) in members)
                {
                    writer.WritePropertyName(member.Name);
                    Write(writer, member.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
