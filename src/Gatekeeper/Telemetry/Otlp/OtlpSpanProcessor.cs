using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gatekeeper.Telemetry.Otlp;

/// <summary>
/// Batches and exports spans over OTLP, in place of the SDK's batch processor and OTLP exporter. Each span is encoded
/// when it ends, on the thread that ends it, while the activity is still in the CPU's cache; the queue holds bytes,
/// not activities, so a finished call's activities are garbage at once. A background thread sends the encoded
/// batches. Honours the same <c>OTEL_BSP_*</c> settings as the SDK's batch processor.
/// </summary>
/// <remarks>
/// Why: the SDK's pipeline keeps each activity queued until its batch is exported and then encodes it on the export
/// thread, when it is no longer in cache. At this service's call rate that took ~1.7 µs of the server's core per call
/// (two spans), with the SDK's encoder or ours alike; docs/OBSERVABILITY.md (Cost) has the measurements.
///
/// A failed export drops its batch (the SDK's exporter does the same unless its experimental retry is on); spans that
/// find the queue full are dropped. Both are logged at most once a minute, with counts since the last report.
/// </remarks>
internal sealed class OtlpSpanProcessor : BaseProcessor<Activity>
{
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMinutes(1);

    private readonly OtlpTransport _transport;
    private readonly int _maxQueued;
    private readonly int _maxBatch;
    private readonly TimeSpan _delay;
    private readonly Lock _queueLock = new();
    private readonly AttributeCache _attributes = new();
    private readonly Queue<Chunk> _full = new();
    private readonly Stack<Chunk> _spare = new();
    private readonly Lock _sendLock = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _thread;
    private Chunk? _current;
    private int _queued;
    private long _droppedFull;
    private byte[]? _resource;
    private volatile bool _stopping;

    // Written by the sending thread only, under _sendLock.
    private long _failedBatches;
    private long _lostSpans;
    private long _droppedReported;
    private long _lastReport;
    private bool _failing;

    public OtlpSpanProcessor(OtlpTransport transport, BatchExportActivityProcessorOptions batching)
    {
        ArgumentNullException.ThrowIfNull(batching);
        _transport = transport;
        _maxQueued = Math.Max(1, batching.MaxQueueSize);
        _maxBatch = Math.Clamp(batching.MaxExportBatchSize, 1, _maxQueued);
        _delay = TimeSpan.FromMilliseconds(Math.Max(1, batching.ScheduledDelayMilliseconds));
        _thread = new Thread(Run) { IsBackground = true, Name = "gatekeeper-otlp-spans" };
        _thread.Start();
    }

    /// <summary>Where export failures and dropped spans are reported; the host sets it once logging exists.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>The full URL spans are sent to.</summary>
    public Uri Target => _transport.Target;

    /// <summary>Encodes a sampled span into the current batch; never throws into the caller's code.</summary>
    public override void OnEnd(Activity data)
    {
        if (!data.Recorded || _stopping)
        {
            return;
        }

        var wake = false;
        lock (_queueLock)
        {
            if (_queued >= _maxQueued)
            {
                _droppedFull++;
                return;
            }

            var chunk = _current;
            if (chunk is null || !ReferenceEquals(chunk.Source, data.Source))
            {
                if (chunk is not null)
                {
                    _full.Enqueue(chunk);
                }

                chunk = _current = _spare.TryPop(out var spare) ? spare : new Chunk();
                _resource ??= SpanEncoder.EncodeResource(ParentProvider?.GetResource() ?? Resource.Empty);
                chunk.Start(data.Source, _resource, _transport.Prefix);
            }

            var mark = chunk.Request.Length;
            try
            {
                SpanEncoder.WriteSpan(chunk.Request, data, _attributes);
            }
            catch (Exception ex) when (ex is FormatException or InvalidOperationException)
            {
                // An activity this encoder cannot represent is left out rather than failing the call that ended it.
                chunk.Request.Truncate(mark);
                return;
            }

            chunk.Count++;
            _queued++;
            if (chunk.Count >= _maxBatch)
            {
                _full.Enqueue(chunk);
                _current = null;
                wake = true;
            }
        }

        if (wake)
        {
            _wake.Set();
        }
    }

    protected override bool OnForceFlush(int timeoutMilliseconds) => Drain(Deadline(timeoutMilliseconds));

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        _stopping = true;
        _wake.Set();
        var finished = timeoutMilliseconds == Timeout.Infinite ? _thread.Join(Timeout.Infinite) : _thread.Join(Math.Max(0, timeoutMilliseconds));
        return finished && Drain(Deadline(timeoutMilliseconds));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _transport.Dispose();
            _wake.Dispose();
        }

        base.Dispose(disposing);
    }

    private static long Deadline(int timeoutMilliseconds) =>
        timeoutMilliseconds == Timeout.Infinite ? long.MaxValue : Stopwatch.GetTimestamp() + (timeoutMilliseconds * Stopwatch.Frequency / 1000);

    private void Run()
    {
        while (!_stopping)
        {
            _wake.WaitOne(_delay);
            Drain(long.MaxValue);
        }

        Drain(long.MaxValue);
    }

    /// <summary>Sends every queued batch, the one still filling included; false if the deadline passed first.</summary>
    private bool Drain(long deadline)
    {
        lock (_sendLock)
        {
            while (Take() is { } chunk)
            {
                Send(chunk);
                lock (_queueLock)
                {
                    _spare.Push(chunk);
                }

                if (Stopwatch.GetTimestamp() > deadline)
                {
                    return Take() is null;
                }
            }

            ReportDropped();
            return true;
        }
    }

    private Chunk? Take()
    {
        lock (_queueLock)
        {
            Chunk? chunk = null;
            if (_full.Count > 0)
            {
                chunk = _full.Dequeue();
            }
            else if (_current is { Count: > 0 })
            {
                chunk = _current;
                _current = null;
            }

            if (chunk is not null)
            {
                _queued -= chunk.Count;
            }

            return chunk;
        }
    }

    private void Send(Chunk chunk)
    {
        chunk.Finish();
        var error = _transport.Send(chunk.Request, out var rejected, out var rejectedMessage);
        if (error is not null)
        {
            _failedBatches++;
            _lostSpans += chunk.Count;
            if (!_failing || Stopwatch.GetElapsedTime(_lastReport) >= ReportInterval)
            {
                TelemetryLog.TraceExportFailed(Logger, Target, error, _failedBatches, _lostSpans);
                _failedBatches = 0;
                _lostSpans = 0;
                _lastReport = Stopwatch.GetTimestamp();
            }

            _failing = true;
            return;
        }

        if (_failing)
        {
            _failing = false;
            TelemetryLog.TraceExportRecovered(Logger, Target, _failedBatches, _lostSpans);
            _failedBatches = 0;
            _lostSpans = 0;
        }

        if (rejected > 0 || rejectedMessage.Length > 0)
        {
            TelemetryLog.TraceExportPartlyRejected(Logger, Target, rejected, rejectedMessage);
        }
    }

    private void ReportDropped()
    {
        var dropped = Interlocked.Read(ref _droppedFull);
        if (dropped > _droppedReported && (_droppedReported == 0 || Stopwatch.GetElapsedTime(_lastReport) >= ReportInterval))
        {
            TelemetryLog.SpansDropped(Logger, dropped - _droppedReported, _maxQueued);
            _droppedReported = dropped;
            _lastReport = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// One export request being filled: the request's opening (resource, scope) is written when the chunk starts, so
    /// that the spans are encoded in place and the request is sent without a copy.
    /// </summary>
    private sealed class Chunk
    {
        private (int ResourceSpans, int ScopeSpans) _open;

        public ActivitySource? Source { get; private set; }

        public ProtobufWriter Request { get; } = new();

        public int Count { get; set; }

        public void Start(ActivitySource source, byte[] resource, int prefix)
        {
            Source = source;
            Count = 0;
            Request.Reset(prefix);
            _open = SpanEncoder.BeginRequest(Request, resource, source);
        }

        public void Finish() => SpanEncoder.EndRequest(Request, _open);
    }
}
