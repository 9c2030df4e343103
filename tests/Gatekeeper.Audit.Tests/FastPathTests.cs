using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gatekeeper.Audit.Internal;

namespace Gatekeeper.Audit.Tests;

/// <summary>
/// The writer's shortcuts must store byte for byte what the general path stores, since the stored text is hashed:
/// hand-built JSON for plain lawful-basis and obligation texts, the "O" time format, the canonical-context cache.
/// </summary>
public sealed class FastPathTests
{
    public static TheoryData<string[]> Texts() => new()
    {
        new[] { "6(1)(e)", "9(2)(g)", "10", "Children Act 1989 s47", "DPA 2018 Sch 1 Pt 2 para 18; s.10" },
        new[] { "", "", "", "" },
        new[] { "needs \"quotes\"", "a+b", "<tag>", "it's", "back\\slash", "café", "line\nbreak", "`tick`", "a&b" },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void LawfulBasisJson_AnyText_SameBytesAsUtf8JsonWriter(string[] texts)
    {
        foreach (var text in texts)
        {
            var basis = new AuditLawfulBasis(text, text + "9", "x" + text, [text, "Children Act 1989", text]);

            var json = PreparedRecord.LawfulBasisJson(basis);

            Assert.Equal(WithWriter(w =>
            {
                w.WriteStartObject();
                w.WriteString("article10", basis.Article10);
                w.WriteString("article6", basis.Article6);
                w.WriteString("article9", basis.Article9);
                w.WriteStartArray("legislation");
                foreach (var item in basis.Legislation)
                {
                    w.WriteStringValue(item);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }), json);
        }
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void StringArrayJson_AnyText_SameBytesAsUtf8JsonWriter(string[] texts)
    {
        var json = PreparedRecord.StringArrayJson(texts);

        Assert.Equal(WithWriter(w =>
        {
            w.WriteStartArray();
            foreach (var item in texts)
            {
                w.WriteStringValue(item);
            }

            w.WriteEndArray();
        }), json);
    }

    [Fact]
    public void LawfulBasisJson_SameInstanceMutatedBetweenCalls_ReflectsWhatItHoldsNow()
    {
        var legislation = new List<string> { "Children's Act 1989" };
        var basis = new AuditLawfulBasis("6(1)(e)", "9(2)(h)", "Sch 1 'social care'", legislation);
        var first = PreparedRecord.LawfulBasisJson(basis);
        var again = PreparedRecord.LawfulBasisJson(basis);

        legislation.Add("Care Act 2014");
        var afterChange = PreparedRecord.LawfulBasisJson(basis);

        Assert.Same(first, again);
        Assert.EndsWith("\"legislation\":[\"Children\\u0027s Act 1989\"]}", first, StringComparison.Ordinal);
        Assert.EndsWith("\"legislation\":[\"Children\\u0027s Act 1989\",\"Care Act 2014\"]}", afterChange, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatTime_RoundTripFormat_IsTheFixedWidthLayout()
    {
        DateTimeOffset[] times = [new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 21, 10, 0, 0, 123, TimeSpan.FromHours(1)).AddTicks(4567), DateTimeOffset.MinValue, DateTimeOffset.MaxValue];

        foreach (var time in times)
        {
            Assert.Equal(
                time.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'", CultureInfo.InvariantCulture),
                RecordFormat.FormatTime(time));
        }
    }

    [Fact]
    public void Canonicalize_SameTextAgainAndAfterTheCacheRefills_SameCanonicalForm()
    {
        const string Context = """{ "subject_statuses": ["b", "a"], "consent": "given" }""";
        var first = ContextCanonicalizer.Canonicalize(Context);
        for (var i = 0; i < ContextCanonicalizer.CacheCapacity + 10; i++)
        {
            ContextCanonicalizer.Canonicalize($$"""{"n":{{i}},"a":1}""");
        }

        Assert.Equal("""{"consent":"given","subject_statuses":["b","a"]}""", first);
        Assert.Equal(first, ContextCanonicalizer.Canonicalize(Context));
        Assert.Equal(first, ContextCanonicalizer.Canonicalize(Context));
        Assert.ThrowsAny<JsonException>(() => ContextCanonicalizer.Canonicalize("{not json"));
        Assert.ThrowsAny<JsonException>(() => ContextCanonicalizer.Canonicalize("{not json"));
    }

    private static string WithWriter(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
