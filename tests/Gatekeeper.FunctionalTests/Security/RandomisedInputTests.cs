using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using Gatekeeper.FunctionalTests.Infrastructure;
using Google.Protobuf;
using Gatekeeper.V1;
using Microsoft.Extensions.Logging;
using static Gatekeeper.FunctionalTests.Security.RawHttp2Connection;

namespace Gatekeeper.FunctionalTests.Security;

/// <summary>
/// Randomised hostile input with fixed seeds (each case is reproducible from its seed and index): malformed
/// frames, headers, protobuf and ids over raw HTTP/2 to the real server. Every call must end with a defined
/// outcome — a grpc-status for well-formed HTTP/2, and for broken HTTP/2 a grpc-status, RST_STREAM, GOAWAY or a
/// closed connection — never a hang; the server must keep answering, log no unexpected error, and its heap
/// must stay bounded.
/// </summary>
public sealed class RandomisedInputTests
{
    private const int CasesPerSeed = 1_100;
    private const int Workers = 6;
    private const long HeapGrowthLimit = 64L * 1024 * 1024;

    private static readonly string[] Paths =
    [
        "/gatekeeper.v1.Gatekeeper/Decide", "/gatekeeper.v1.Gatekeeper/Decide", "/gatekeeper.v1.Gatekeeper/DecideBatch",
        "/grpc.health.v1.Health/Check", "/gatekeeper.v1.Admin/QueryAudit", "/gatekeeper.v1.Gatekeeper/Nope", "/nope.Service/X", "/", "//", "/gatekeeper.v1.Gatekeeper/Decide/extra",
    ];

    private static readonly string[] ContentTypes = ["application/grpc", "application/grpc", "application/grpc", "application/grpc+proto", "application/grpc+json", "application/json", "text/plain", "", "application/grpc; charset=utf-8", "APPLICATION/GRPC"];
    private static readonly string[] KnownIds = ["cpis_flag", "nhs_cpis", "cpis_alert", "case_record", "police", "research", "looked_after", "crime_prevention"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task RawHttp2_RandomHostileCalls_EveryCallEndsDefinedAndServerStaysUpWithBoundedMemory(int seed)
    {
        await using var server = await SecureServer.StartAsync(
            "callers:\n  anonymous-loopback:\n    categories: '*'\n    purposes: '*'\n    admin: [query_audit]\n    rate_limit: unlimited\n",
            "--Gatekeeper:Cache:L1MaxBytes=4194304");
        using var errors = server.Logs.VerifyNoErrors();
        int port = server.Address.Port;

        await RunCasesAsync(port, seed, 0, 100);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var failures = await RunCasesAsync(port, seed, 100, CasesPerSeed);
        long after = GC.GetTotalMemory(forceFullCollection: true);

        Assert.True(failures.IsEmpty, $"seed {seed}: {failures.Count} cases ended badly:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Take(20))}");
        Assert.True(after - before < HeapGrowthLimit, $"seed {seed}: heap grew by {(after - before) / 1024 / 1024} MiB over {CasesPerSeed - 100} cases");
        using var client = new Client.GatekeeperClient(new Client.GatekeeperClientOptions { Address = server.Address, DefaultDeadline = TimeSpan.FromSeconds(15) });
        var answer = await client.DecideAsync(new DecideRequest { Category = "cpis_flag", Recipient = "nhs_cpis", Purpose = "cpis_alert", RequestId = "after-fuzz" });
        Assert.NotEmpty(answer.DecisionId);
        Assert.Empty(errors.UnexpectedErrors());
    }

    private static async Task<ConcurrentBag<string>> RunCasesAsync(int port, int seed, int from, int to)
    {
        var failures = new ConcurrentBag<string>();
        var next = from - 1;
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < to)
            {
                var scenario = Scenario.Create(new Random((seed * 1_000_003) + index));
                var outcome = await RunAsync(port, scenario);
                if (!scenario.Accepts(outcome))
                {
                    failures.Add($"case {seed}/{index} [{scenario.Description}]: {outcome}");
                }
            }
        }));
        await Task.WhenAll(workers);
        return failures;
    }

    private static async Task<RawOutcome> RunAsync(int port, Scenario scenario)
    {
        using var connection = await OpenAsync(port, CancellationToken.None);
        try
        {
            await connection.SendAsync(scenario.Bytes, CancellationToken.None);
        }
        catch (IOException)
        {
            // The server may close the connection before a hostile request is fully written.
        }

        if (scenario.Strict)
        {
            return await connection.ReadOutcomeAsync(1, TimeSpan.FromSeconds(10));
        }

        // Broken framing may leave the server waiting for bytes that never come; a client would give up and close.
        var outcome = await connection.ReadOutcomeAsync(1, TimeSpan.FromMilliseconds(300));
        if (outcome.Kind != "hang")
        {
            return outcome;
        }

        connection.ShutdownSend();
        return await connection.ReadOutcomeAsync(1, TimeSpan.FromSeconds(10));
    }

    /// <summary>One hostile exchange: the bytes after the preface, and what counts as a defined ending.</summary>
    private sealed class Scenario
    {
        private Scenario(byte[] bytes, bool strict, string description)
        {
            Bytes = bytes;
            Strict = strict;
            Description = description;
        }

        public byte[] Bytes { get; }

        /// <summary>Well-formed HTTP/2: only a grpc-status is a defined ending.</summary>
        public bool Strict { get; }

        public string Description { get; }

        public bool Accepts(RawOutcome outcome) => outcome.Kind switch
        {
            "status" => outcome.GrpcStatus is >= 0 and <= 16,
            "rst" or "goaway" or "closed" => !Strict,
            // A gRPC client maps an HTTP error status without grpc-status to a gRPC status itself.
            "no-grpc-status" => !Strict && outcome.HttpStatus is not null and not "200",
            _ => false,
        };

        public static Scenario Create(Random random)
        {
            var notes = new List<string>();
            var path = Pick(random, Paths);
            var headers = new List<(string Name, string Value)>
            {
                (":method", random.Next(20) == 0 ? Pick(random, ["GET", "PUT", "post", "", "P OST"]) : "POST"),
                (":scheme", "http"),
                (":path", path),
                (":authority", "127.0.0.1"),
                ("content-type", random.Next(4) == 0 ? Pick(random, ContentTypes) : "application/grpc"),
                ("te", random.Next(15) == 0 ? "gzip" : "trailers"),
            };
            notes.Add($"{headers[0].Value} {path} {headers[4].Value} te:{headers[5].Value}");
            // Requests HTTP/2 itself forbids (RFC 9113 8.2.2, 8.3.1: te other than trailers, an empty or malformed
            // method) or over the server's header limits are refused by Kestrel below the gRPC layer: RST_STREAM,
            // GOAWAY or an HTTP error status, which gRPC clients map to statuses of their own.
            bool strict = headers[5].Value == "trailers" && headers[0].Value is "POST" or "GET" or "PUT" or "post";
            var body = Body(random, path, headers, notes);
            strict &= AddMetadata(random, headers, notes);

            var frames = new List<byte>();
            byte[] block = HeaderBlock(headers);
            if (random.Next(8) == 0 && block.Length > 2)
            {
                // Header block split over HEADERS + CONTINUATION.
                int cut = random.Next(1, block.Length);
                frames.AddRange(Frame(Headers, 0, 1, block.AsSpan(0, cut)));
                frames.AddRange(Frame(Continuation, EndHeaders, 1, block.AsSpan(cut)));
                notes.Add("continuation");
            }
            else
            {
                frames.AddRange(Frame(Headers, EndHeaders, 1, block));
            }

            AppendData(random, frames, body, notes);
            var bytes = frames.ToArray();
            if (random.Next(10) < 4)
            {
                strict = false;
                bytes = Corrupt(random, bytes, block, notes);
            }

            return new Scenario(bytes, strict, string.Join("; ", notes));
        }

        private static byte[] Body(Random random, string path, List<(string Name, string Value)> headers, List<string> notes)
        {
            byte[] message = path.Contains("DecideBatch", StringComparison.Ordinal)
                ? Batch(random, notes)
                : path.Contains("QueryAudit", StringComparison.Ordinal) ? Query(random, notes) : Decide(random, notes);
            switch (random.Next(14))
            {
                case 0:
                    notes.Add("garbage protobuf");
                    message = RandomBytes(random, random.Next(0, 200));
                    break;
                case 1 when message.Length > 1:
                    notes.Add("truncated protobuf");
                    message = message[..random.Next(1, message.Length)];
                    break;
                case 2:
                    notes.Add("protobuf + trailing garbage");
                    message = [.. message, .. RandomBytes(random, random.Next(1, 20))];
                    break;
                case 3 when message.Length > 0:
                    notes.Add("bit flip");
                    message = (byte[])message.Clone();
                    message[random.Next(message.Length)] ^= (byte)(1 << random.Next(8));
                    break;
            }

            byte flag = 0;
            switch (random.Next(12))
            {
                case 0:
                    notes.Add("compressed flag without encoding");
                    flag = 1;
                    break;
                case 1:
                    notes.Add("gzip");
                    headers.Add(("grpc-encoding", "gzip"));
                    flag = 1;
                    message = Gzip(message);
                    break;
                case 2:
                    notes.Add("gzip header, garbage body");
                    headers.Add(("grpc-encoding", "gzip"));
                    flag = 1;
                    message = RandomBytes(random, random.Next(0, 64));
                    break;
                case 3:
                    var encoding = Pick(random, ["deflate", "snappy", "identity", "gzip, deflate", "\u00e9"]);
                    notes.Add($"grpc-encoding {encoding}");
                    headers.Add(("grpc-encoding", encoding));
                    flag = (byte)random.Next(2);
                    break;
                case 4:
                    flag = (byte)random.Next(2, 256);
                    notes.Add($"flag {flag}");
                    break;
            }

            int declared = message.Length;
            switch (random.Next(10))
            {
                case 0:
                    declared = random.Next(message.Length + 1, message.Length + 100);
                    notes.Add("length over the body");
                    break;
                case 1 when message.Length > 0:
                    declared = random.Next(0, message.Length);
                    notes.Add("length under the body");
                    break;
                case 2:
                    declared = random.Next(2) == 0 ? int.MaxValue : random.Next(5 * 1024 * 1024, int.MaxValue);
                    notes.Add("huge length");
                    break;
            }

            var framed = new byte[5 + message.Length];
            framed[0] = flag;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)declared);
            message.CopyTo(framed, 5);
            return random.Next(12) switch
            {
                0 => Note(notes, "no body", []),
                1 => Note(notes, "two messages", [.. framed, .. framed]),
                2 => Note(notes, "prefix only", framed[..random.Next(0, 5)]),
                _ => framed,
            };
        }

        private static byte[] Decide(Random random, List<string> notes)
        {
            var bytes = DecideMessage(random, notes).ToByteArray();
            if (random.Next(10) == 0)
            {
                // A string field holding bytes that are not UTF-8, or an unknown field of every wire type.
                notes.Add("raw fields");
                bytes = [.. bytes, .. RawField(random.Next(1, 4), RandomBytes(random, random.Next(1, 16))), .. RawField(random.Next(8, 2000), RandomBytes(random, 3)), (byte)((random.Next(8, 200) << 3) | random.Next(6))];
            }

            return bytes;
        }

        private static DecideRequest DecideMessage(Random random, List<string> notes)
        {
            var request = new DecideRequest
            {
                Category = Id(random, notes),
                Recipient = Id(random, notes),
                Purpose = Id(random, notes),
                RequestId = random.Next(4) == 0 ? Text(random, random.Next(0, 300)) : "fuzz",
                SubjectRef = random.Next(4) == 0 ? Text(random, random.Next(0, 300)) : "",
                Explain = random.Next(6) == 0,
            };
            if (random.Next(2) == 0)
            {
                request.Context = new DecisionContext
                {
                    Form = (DataForm)random.Next(-2, 6),
                    Consent = (Consent)random.Next(-2, 7),
                    DestinationCountry = Pick(random, ["", "GB", "FR", "fr", "ZZ", "G", "GBR", "\u00e9\u00e9", "1!"]),
                    SubjectRequest = random.Next(2) == 0,
                };
                for (int i = random.Next(0, random.Next(3) == 0 ? 80 : 4); i > 0; i--)
                {
                    request.Context.SubjectStatuses.Add(Id(random, notes));
                }

                if (random.Next(2) == 0)
                {
                    request.Context.SubjectIsMinor = random.Next(2) == 0;
                }
            }

            return request;
        }

        private static byte[] Batch(Random random, List<string> notes)
        {
            var batch = new DecideBatchRequest();
            int count = random.Next(6) == 0 ? random.Next(0, 130) : random.Next(1, 5);
            notes.Add($"batch of {count}");
            for (int i = 0; i < count; i++)
            {
                batch.Requests.Add(DecideMessage(random, []));
            }

            return batch.ToByteArray();
        }

        private static byte[] Query(Random random, List<string> notes)
        {
            notes.Add("query");
            return new QueryAuditRequest
            {
                From = Pick(random, ["", "2026-11-01T00:00:00Z", "yesterday", "2026-13-45", Text(random, 40)]),
                To = Pick(random, ["", "2027-01-01T00:00:00Z", "9999-99-99"]),
                Category = Id(random, notes),
                Decision = (Decision)random.Next(-1, 6),
                PageSize = random.Next(-5, 5000),
                PageToken = random.Next(3) == 0 ? Text(random, random.Next(0, 100)) : "",
                DecisionId = random.Next(4) == 0 ? Text(random, 30) : "",
            }.ToByteArray();
        }

        private static string Id(Random random, List<string> notes) => random.Next(12) switch
        {
            0 => "",
            1 => new string('a', random.Next(65, 400)),
            2 => Text(random, random.Next(1, 70)),
            3 => Pick(random, ["Cpis_Flag", "cpis flag", "cpis-flag", "cpis_flag\u0000", "\u202ecpis", "caf\u00e9", "\ud83d\ude00", "../../etc/passwd", "' OR 1=1 --", "%00"]),
            4 or 5 => RandomId(random),
            _ => Pick(random, KnownIds),
        };

        private static string RandomId(Random random)
        {
            const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_";
            var chars = new char[random.Next(1, 65)];
            for (int i = 0; i < chars.Length; i++)
            {
                chars[i] = alphabet[random.Next(alphabet.Length)];
            }

            return new string(chars);
        }

        private static string Text(Random random, int length)
        {
            var chars = new char[length];
            for (int i = 0; i < length; i++)
            {
                chars[i] = random.Next(4) == 0 ? (char)random.Next(0x80, 0xD7FF) : (char)random.Next(0, 0x80);
            }

            return new string(chars);
        }

        /// <summary>Adds hostile metadata; false when it breaks HTTP/2 or the header limits rather than gRPC.</summary>
        private static bool AddMetadata(Random random, List<(string Name, string Value)> headers, List<string> notes)
        {
            switch (random.Next(10))
            {
                case 0:
                    var timeout = Pick(random, ["1S", "100m", "0n", "99999999H", "1200H", "-1S", "1", "S", "123456789S", "1.5S", ""]);
                    notes.Add($"grpc-timeout {timeout}");
                    headers.Add(("grpc-timeout", timeout));
                    break;
                case 1:
                    notes.Add("-bin metadata");
                    headers.Add(("x-trace-bin", Pick(random, ["AAEC", "AAE", "!!!!", "", Convert.ToBase64String(RandomBytes(random, 40))])));
                    break;
                case 2:
                    notes.Add("many headers");
                    int count = random.Next(10, 120);
                    for (int i = count; i > 0; i--)
                    {
                        headers.Add(($"x-h{i}", "v"));
                    }

                    return headers.Count <= 64;
                case 3:
                    int length = random.Next(1_000, 40_000);
                    notes.Add($"long header {length}");
                    headers.Add(("x-long", new string('x', length)));
                    return length < 8 * 1024 - 64;
                case 4:
                    var value = Text(random, random.Next(0, 50));
                    notes.Add("odd header value");
                    headers.Add(("x-odd", value));
                    return value.All(static c => c is >= ' ' and <= '~');
            }

            return true;
        }

        private static void AppendData(Random random, List<byte> frames, byte[] body, List<string> notes)
        {
            if (body.Length == 0)
            {
                frames.AddRange(Frame(Data, EndStream, 1, []));
                return;
            }

            int offset = 0;
            bool split = random.Next(4) == 0;
            if (split)
            {
                notes.Add("split data");
            }

            while (offset < body.Length)
            {
                int size = Math.Min(body.Length - offset, split ? random.Next(1, 64) : 16_384);
                bool last = offset + size == body.Length;
                if (random.Next(20) == 0)
                {
                    // A padded DATA frame, still within the 16 KiB frame size.
                    int pad = random.Next(0, 40);
                    size = Math.Min(size, 16_384 - 1 - pad);
                    last = offset + size == body.Length;
                    var payload = new byte[1 + size + pad];
                    payload[0] = (byte)pad;
                    body.AsSpan(offset, size).CopyTo(payload.AsSpan(1));
                    frames.AddRange(Frame(Data, (byte)(Padded | (last ? EndStream : 0)), 1, payload));
                }
                else
                {
                    frames.AddRange(Frame(Data, last ? EndStream : (byte)0, 1, body.AsSpan(offset, size)));
                }

                if (split && !last && random.Next(6) == 0)
                {
                    frames.AddRange(Frame(Data, 0, 1, []));
                }

                offset += size;
            }
        }

        private static byte[] Corrupt(Random random, byte[] bytes, byte[] block, List<string> notes)
        {
            var mutated = new List<byte>(bytes);
            switch (random.Next(16))
            {
                case 0:
                    int at = random.Next(mutated.Count);
                    mutated[at] = (byte)random.Next(256);
                    notes.Add($"byte {at} replaced");
                    break;
                case 1:
                    notes.Add("unknown frame type");
                    mutated.InsertRange(0, Frame((byte)random.Next(10, 256), (byte)random.Next(256), random.Next(0, 8), RandomBytes(random, random.Next(0, 30))));
                    return [.. mutated];
                case 2:
                    notes.Add("DATA on stream 0");
                    mutated.InsertRange(0, Frame(Data, 0, 0, RandomBytes(random, 10)));
                    break;
                case 3:
                    notes.Add("HEADERS on an even stream");
                    mutated.InsertRange(0, Frame(Headers, EndHeaders | EndStream, 2, block));
                    break;
                case 4:
                    notes.Add("WINDOW_UPDATE of 0");
                    mutated.AddRange(Frame(WindowUpdate, 0, random.Next(2), [0, 0, 0, 0]));
                    break;
                case 5:
                    notes.Add("PING of the wrong size");
                    mutated.InsertRange(0, Frame(Ping, 0, 0, RandomBytes(random, random.Next(0, 7))));
                    break;
                case 6:
                    notes.Add("bad SETTINGS");
                    byte[][] settings = [[0, 2, 0, 0, 0, 2], [0, 4, 0x80, 0, 0, 0], [0, 5, 0, 0, 0, 1], [0, 1, 0]];
                    mutated.InsertRange(0, Frame(Settings, 0, 0, Pick(random, settings)));
                    break;
                case 7:
                    notes.Add("RST_STREAM on an idle stream");
                    mutated.InsertRange(0, Frame(RstStream, 0, 7, [0, 0, 0, 8]));
                    break;
                case 8:
                    notes.Add("CONTINUATION without HEADERS");
                    mutated.InsertRange(0, Frame(Continuation, EndHeaders, 5, block));
                    break;
                case 9:
                    notes.Add("upper-case header name");
                    return Replace(bytes, block, HeaderBlock([(":method", "POST"), (":scheme", "http"), (":path", "/gatekeeper.v1.Gatekeeper/Decide"), ("Content-Type", "application/grpc"), ("te", "trailers")]));
                case 10:
                    notes.Add("pseudo-header after a field, or missing :path, or connection header");
                    return Replace(bytes, block, HeaderBlock(Pick<(string, string)[]>(random,
                    [
                        [("content-type", "application/grpc"), (":method", "POST"), (":scheme", "http"), (":path", "/gatekeeper.v1.Gatekeeper/Decide")],
                        [(":method", "POST"), (":scheme", "http"), ("content-type", "application/grpc")],
                        [(":method", "POST"), (":scheme", "http"), (":path", "/a"), (":path", "/b"), ("content-type", "application/grpc")],
                        [(":method", "POST"), (":scheme", "http"), (":path", "/gatekeeper.v1.Gatekeeper/Decide"), ("connection", "keep-alive"), ("content-type", "application/grpc")],
                        [(":method", "POST"), (":scheme", "http"), (":path", "/gatekeeper.v1.Gatekeeper/Decide"), (":bogus", "x"), ("content-type", "application/grpc")],
                    ])));
                case 11:
                    notes.Add("garbage HPACK");
                    return Replace(bytes, block, RandomBytes(random, random.Next(1, 60)));
                case 12:
                    notes.Add("truncated");
                    int keep = random.Next(1, mutated.Count);
                    mutated.RemoveRange(keep, mutated.Count - keep);
                    break;
                case 13:
                    notes.Add("frame over the maximum size");
                    mutated.AddRange(Frame(Data, 0, 1, new byte[20_000]));
                    break;
                case 14:
                    notes.Add("random bytes");
                    return RandomBytes(random, random.Next(1, 200));
                default:
                    notes.Add("DATA after END_STREAM");
                    mutated.AddRange(Frame(Data, EndStream, 1, RandomBytes(random, 5)));
                    break;
            }

            return [.. mutated];
        }

        private static byte[] Replace(byte[] bytes, byte[] oldBlock, byte[] newBlock)
        {
            // The HEADERS frame is first, unsplit or split; rebuild it whole with the new block.
            var rest = bytes.AsSpan(9 + ((bytes[0] << 16) | (bytes[1] << 8) | bytes[2]));
            if (bytes[3] == Headers && (bytes[4] & EndHeaders) == 0 && rest.Length >= 9)
            {
                rest = rest[(9 + ((rest[0] << 16) | (rest[1] << 8) | rest[2]))..];
            }

            _ = oldBlock;
            return [.. Frame(Headers, EndHeaders, 1, newBlock), .. rest];
        }

        private static byte[] RawField(int number, byte[] value) => [(byte)((number << 3) | 2), (byte)value.Length, .. value];

        private static byte[] Gzip(byte[] data)
        {
            using var output = new MemoryStream();
            using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            {
                gzip.Write(data);
            }

            return output.ToArray();
        }

        private static byte[] RandomBytes(Random random, int count)
        {
            var bytes = new byte[count];
            random.NextBytes(bytes);
            return bytes;
        }

        private static T Pick<T>(Random random, T[] values) => values[random.Next(values.Length)];

        private static byte[] Note(List<string> notes, string note, byte[] value)
        {
            notes.Add(note);
            return value;
        }
    }
}
