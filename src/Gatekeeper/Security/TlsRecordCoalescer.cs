using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Gatekeeper.Security;

/// <summary>
/// Sits between Kestrel's HTTP/2 layer and its <see cref="SslStream"/> so that responses share TLS records.
/// </summary>
/// <remarks>
/// Kestrel flushes after every HTTP/2 response (and every WINDOW_UPDATE), and over TLS each flush is one
/// <see cref="SslStream"/> write: one TLS record, one encryption, one write into the socket's pipe. Measured on
/// the Decide benchmark that was ~1.5 records of ~240 bytes per call, and TLS cost the server ~6-8 µs more CPU per
/// call than plain text, whose socket writes are batched by Kestrel's socket transport. Here HTTP/2 writes and
/// flushes into an in-memory pipe (a flush only wakes the pump), and one pump per connection encrypts whatever
/// has gathered since its last write, up to 16 KiB per record. Under load many responses share a record; an
/// idle connection gets each response as soon as the pump runs (one thread-pool hop later than before).
/// Back-pressure is kept: the pipe pauses HTTP/2's flushes at the same buffer limit Kestrel uses for the socket.
/// </remarks>
internal sealed class TlsRecordCoalescer : IDuplexPipe
{
    /// <summary>The largest TLS record payload (RFC 8446 5.1): what one pump write encrypts at most.</summary>
    internal const int MaxRecordPayload = 16 * 1024;

    private readonly IDuplexPipe _tls;
    private readonly SslStream _ssl;
    private readonly Action<Exception> _writeFailed;
    private readonly Pipe _pending;
    private readonly Task _pump;

    /// <summary>Starts the pump. <paramref name="writeFailed"/> is told when the TLS stream refuses a write.</summary>
    internal TlsRecordCoalescer(IDuplexPipe tls, SslStream ssl, MemoryPool<byte> pool, long? maxBuffered, Action<Exception> writeFailed)
    {
        _tls = tls;
        _ssl = ssl;
        _writeFailed = writeFailed;
        var pause = maxBuffered ?? 0;
        _pending = new Pipe(new PipeOptions(
            pool,
            readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: pause,
            resumeWriterThreshold: pause / 2,
            useSynchronizationContext: false));
        _pump = PumpAsync();
    }

    /// <summary>Decrypted input, exactly as Kestrel's TLS layer provides it.</summary>
    public PipeReader Input => _tls.Input;

    /// <summary>Where HTTP/2 writes its frames; flushing only hands them to the pump.</summary>
    public PipeWriter Output => _pending.Writer;

    /// <summary>
    /// Connection middleware, to be placed right after Kestrel's TLS (<c>UseHttps</c>). The connection ends only
    /// once everything HTTP/2 wrote is encrypted and handed to the socket, or after <paramref name="drainTimeout"/>
    /// (a peer that stopped reading), when the connection is aborted.
    /// </summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware(long? maxResponseBufferSize, TimeSpan drainTimeout) => next => async context =>
    {
        if (context.Features.Get<ISslStreamFeature>()?.SslStream is not { } ssl)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var tls = context.Transport;
        var pool = context.Features.Get<IMemoryPoolFeature>()?.MemoryPool ?? MemoryPool<byte>.Shared;
        var coalescer = new TlsRecordCoalescer(tls, ssl, pool, maxResponseBufferSize, ex => context.Abort(new ConnectionAbortedException("Writing to the TLS stream failed.", ex)));
        context.Transport = coalescer;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Transport = tls;
            if (!await coalescer.DrainAsync(drainTimeout).ConfigureAwait(false))
            {
                context.Abort(new ConnectionAbortedException("The TLS output did not drain; the peer stopped reading."));
            }
        }
    };

    /// <summary>Ends the output (if HTTP/2 has not) and waits for the pump to write what is left.</summary>
    internal async Task<bool> DrainAsync(TimeSpan timeout)
    {
        // HTTP/2 completes the writer when it ends; completing it again is a no-op for a completed Pipe writer.
        await _pending.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _pump.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task PumpAsync()
    {
        // Small writes are gathered here so that a batch of responses spread over pool blocks is one record.
        var record = ArrayPool<byte>.Shared.Rent(MaxRecordPayload);
        var reader = _pending.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await WriteRecordsAsync(buffer, record).ConfigureAwait(false);
                    // As Kestrel's own TLS writer does after each batch (a no-op for SslStream's buffers, it passes
                    // the flush on to the socket's pipe).
                    await _ssl.FlushAsync().ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The socket is gone or the stream was torn down. As with a failed socket write in Kestrel's socket
            // transport, HTTP/2's next flush sees the output completed (not an exception) and the connection ends.
            await reader.CompleteAsync().ConfigureAwait(false);
            _writeFailed(ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
        }
    }

    private async ValueTask WriteRecordsAsync(ReadOnlySequence<byte> buffer, byte[] record)
    {
        if (buffer.IsSingleSegment)
        {
            // SslStream cuts writes above the record size into records itself.
            await _ssl.WriteAsync(buffer.First).ConfigureAwait(false);
            return;
        }

        var filled = 0;
        foreach (var segment in buffer)
        {
            var source = segment;
            while (!source.IsEmpty)
            {
                var take = Math.Min(source.Length, MaxRecordPayload - filled);
                source.Span[..take].CopyTo(record.AsSpan(filled));
                filled += take;
                source = source[take..];
                if (filled == MaxRecordPayload)
                {
                    await _ssl.WriteAsync(record.AsMemory(0, filled)).ConfigureAwait(false);
                    filled = 0;
                }
            }
        }

        if (filled > 0)
        {
            await _ssl.WriteAsync(record.AsMemory(0, filled)).ConfigureAwait(false);
        }
    }
}
