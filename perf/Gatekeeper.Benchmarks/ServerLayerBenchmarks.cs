// Allocation and time per unary call of the gRPC server layer alone (no sockets, no Kestrel): the request
// delegate GrpcEndpoint.HandleAsync on a reused HttpContext whose features are reset between calls.
// Decide here evaluates the default policy every time (no cache, no audit): the layer plus the engine.
// Run: dotnet run -c Release --project perf/Gatekeeper.Benchmarks -- --filter '*ServerLayer*'
//
// Last results (2026-11-22, --job short, shared 2-core VM at load average ~20: trust the allocations):
// | Method      | Mean      | Error      | StdDev     | Ratio | Allocated |
// |------------ |----------:|-----------:|-----------:|------:|----------:|
// | HealthCheck |  3.528 us |  15.893 us |  0.8711 us |  1.05 |     136 B |
// | Decide      | 38.034 us | 327.284 us | 17.9396 us | 11.32 |     976 B |
// (An earlier run at lower load: HealthCheck 2.1 us / 136 B, Decide 9.8 us / 1,016 B.)
using System.IO.Pipelines;
using System.Net;
using BenchmarkDotNet.Attributes;
using Gatekeeper.Caching;
using Gatekeeper.Decisions;
using Gatekeeper.Health;
using Gatekeeper.Policy;
using Gatekeeper.Protocol;
using Gatekeeper.Security;
using Gatekeeper.Transport;
using Gatekeeper.V1;
using Google.Protobuf;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Benchmarks;

[MemoryDiagnoser]
public class ServerLayerBenchmarks
{
    private readonly ReusableCall _health = new();
    private readonly ReusableCall _decide = new();
    private GrpcEndpoint _endpoint = null!;

    [GlobalSetup]
    public void Setup()
    {
        var store = new HealthStatusStore();
        store.SetAll(HealthCheckResponse.Types.ServingStatus.Serving);
        var policies = new PolicyProvider(Path.Combine(AppContext.BaseDirectory, "policies"), NullLogger<PolicyProvider>.Instance);
        // The caller check is on the hot path too (the fake connection is 127.0.0.1: anonymous-loopback).
        var authorizer = new CallerAuthorizer(policies, null, TimeProvider.System, NullLogger<CallerAuthorizer>.Instance);
        var methods = new HealthService(store).Methods().Concat(new DecisionService(new DecisionPipeline(policies, new L1DecisionCache(0, 0), null, null, TimeProvider.System), authorizer).Methods());
        _endpoint = new GrpcEndpoint(methods, Options.Create(new GrpcServerOptions()), TimeProvider.System, NullLogger<GrpcEndpoint>.Instance);
        _health.Prepare("/grpc.health.v1.Health/Check", new HealthCheckRequest());
        _decide.Prepare("/gatekeeper.v1.Gatekeeper/Decide", new DecideRequest
        {
            Category = "health_disability",
            Recipient = "gp_surgery",
            Purpose = "social_care",
            Context = new DecisionContext { SubjectStatuses = { "child_in_need" }, SubjectIsMinor = true },
        });
    }

    [Benchmark(Baseline = true)]
    public Task HealthCheck() => _health.RunAsync(_endpoint);

    [Benchmark]
    public Task Decide() => _decide.RunAsync(_endpoint);

    /// <summary>One HttpContext and its features, reset between calls so that only the server layer allocates.</summary>
    private sealed class ReusableCall : IHttpRequestFeature, IHttpResponseFeature, IHttpResponseBodyFeature, IHttpResponseTrailersFeature, IRequestBodyPipeFeature, IHttpRequestLifetimeFeature
    {
        private readonly Pipe _request = new();
        private readonly Pipe _response = new(new PipeOptions(pauseWriterThreshold: 0));
        private readonly FeatureCollection _features = new();
        private DefaultHttpContext _context = null!;
        private byte[] _frame = [];

        public void Prepare(string path, IMessage message)
        {
            Path = path;
            var payload = message.ToByteArray();
            _frame = new byte[GrpcProtocol.MessagePrefixLength + payload.Length];
            MessageFraming.WritePrefix(_frame, compressed: false, payload.Length);
            payload.CopyTo(_frame, GrpcProtocol.MessagePrefixLength);
            Headers.ContentType = GrpcProtocol.ContentType;
            _features.Set<IHttpRequestFeature>(this);
            _features.Set<IHttpResponseFeature>(this);
            _features.Set<IHttpResponseBodyFeature>(this);
            _features.Set<IHttpResponseTrailersFeature>(this);
            _features.Set<IRequestBodyPipeFeature>(this);
            _features.Set<IHttpRequestLifetimeFeature>(this);
            _features.Set<IHttpConnectionFeature>(new HttpConnectionFeature { RemoteIpAddress = IPAddress.Loopback, RemotePort = 50000 });
            _context = new DefaultHttpContext(_features);
        }

        public async Task RunAsync(GrpcEndpoint endpoint)
        {
            await _request.Writer.WriteAsync(_frame);
            await _request.Writer.CompleteAsync();
            await endpoint.HandleAsync(_context);
            _request.Reader.Complete();
            _request.Reset();
            await _response.Writer.FlushAsync();
            var written = await _response.Reader.ReadAsync();
            _response.Reader.AdvanceTo(written.Buffer.End);
            ((IHeaderDictionary)ResponseHeaders).Clear();
            Trailers.Clear();
            StatusCode = 200;
        }

        // Request
        public string Protocol { get; set; } = "HTTP/2";
        public string Scheme { get; set; } = "http";
        public string Method { get; set; } = "POST";
        public string PathBase { get; set; } = string.Empty;
        public string Path { get; set; } = string.Empty;
        public string QueryString { get; set; } = string.Empty;
        public string RawTarget { get; set; } = string.Empty;
        public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();
        public Stream Body { get; set; } = Stream.Null;
        public PipeReader Reader => _request.Reader;
        public CancellationToken RequestAborted { get; set; }
        public void Abort() { }

        // Response
        int IHttpResponseFeature.StatusCode { get => StatusCode; set => StatusCode = value; }
        public int StatusCode { get; set; } = 200;
        public string? ReasonPhrase { get; set; }
        IHeaderDictionary IHttpResponseFeature.Headers { get => ResponseHeaders; set => ResponseHeaders = value; }
        public IHeaderDictionary ResponseHeaders { get; set; } = new HeaderDictionary();
        Stream IHttpResponseFeature.Body { get => Stream.Null; set { } }
        public bool HasStarted => false;
        public void OnStarting(Func<object, Task> callback, object state) { }
        public void OnCompleted(Func<object, Task> callback, object state) { }
        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();

        // Response body
        public Stream Stream => Stream.Null;
        public PipeWriter Writer => _response.Writer;
        public void DisableBuffering() { }
        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public async Task CompleteAsync() => await _response.Writer.FlushAsync();
    }
}
