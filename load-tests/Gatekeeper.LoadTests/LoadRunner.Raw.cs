using System.Diagnostics;
using Gatekeeper.Client;
using Gatekeeper.LoadTests.Http2;
using Gatekeeper.Protocol;
using Google.Protobuf;

namespace Gatekeeper.LoadTests;

/// <summary>
/// The raw engine (<see cref="LoadEngine.Raw"/>): one thread starts calls at their intended times (open loop) or
/// keeps N in flight (closed loop), writes them as HTTP/2 frames, waits in ppoll until an answer or the next
/// arrival is due, and records each answer as it is read. No thread-pool hop, no per-call task: a few µs of the
/// generator's core per call where <c>Gatekeeper.Client</c> needs tens.
/// </summary>
internal sealed partial class LoadRunner
{
    private void CountClientFailure(string? reason)
    {
        if (reason is not null)
        {
            lock (_clientFailures)
            {
                _clientFailures[reason] = _clientFailures.GetValueOrDefault(reason) + 1;
            }
        }
    }

    private void RawLoop(CancellationToken cancellationToken)
    {
        NativeWait.UseFineTimerSlack();
        var connections = new Http2Connection[_scenario.Connections];
        try
        {
            for (var i = 0; i < connections.Length; i++)
            {
                connections[i] = Http2Connection.Open(_target);
            }

            RawCalls(connections, cancellationToken);
        }
        finally
        {
            foreach (var connection in connections)
            {
                connection?.Dispose();
            }
        }
    }

    private void RawCalls(Http2Connection[] connections, CancellationToken cancellationToken)
    {
        var decideBlock = Http2Connection.RequestHeaderBlock(_target, GatekeeperMethods.Decide, _scenario.Deadline);
        var batchBlock = Http2Connection.RequestHeaderBlock(_target, GatekeeperMethods.DecideBatch, _scenario.Deadline);
        var calls = new Dictionary<long, (long Intended, int Decisions)>();
        var ended = new List<CallEnd>();
        var polls = new NativeWait.PollFd[connections.Length];
        var random = new Random(_scenario.Seed + 1);
        var open = _scenario.Mode == LoadMode.Open;
        var meanGapTicks = open ? Stopwatch.Frequency / _scenario.Rate : 0;
        var longestWait = Stopwatch.Frequency / 1000; // wake at least every millisecond to see a cancellation
        // The server enforces the deadline (grpc-timeout); a call it never answers ends here a little later.
        var expireAfter = ToTicks(_scenario.Deadline) + Stopwatch.Frequency / 10;
        var nextExpiry = 0L;
        double next = _startTicks;
        long tags = 0;
        var turn = 0;

        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            // An open loop sends every arrival intended before the end, however late (as the client engine does):
            // dropping the late ones would hide the very delays it measures.
            var sending = !cancellationToken.IsCancellationRequested && (open ? (long)next < _endTicks : now < _endTicks);
            if (!sending && calls.Count == 0)
            {
                return;
            }

            if (sending)
            {
                if (open)
                {
                    while (next <= now && (long)next < _endTicks && calls.Count < _scenario.MaxInFlight)
                    {
                        var intended = (long)next;
                        if (intended >= _measureStartTicks)
                        {
                            _sendLag.Record(ToNanos(now - intended));
                        }

                        StartCall(intended);
                        // Exponential gaps make a Poisson process: arrivals are bursty the way independent callers are.
                        next += -Math.Log(1.0 - random.NextDouble()) * meanGapTicks;
                    }
                }
                else
                {
                    // With no connection open a call fails at once and never counts as in flight: one round per wake-up.
                    for (var started = calls.Count; started < _scenario.Concurrency; started++)
                    {
                        StartCall(now);
                    }
                }
            }

            for (var i = 0; i < connections.Length; i++)
            {
                connections[i].Flush();
                polls[i] = new NativeWait.PollFd
                {
                    Descriptor = connections[i].Failure is null ? (int)connections[i].Socket.Handle : -1, // ppoll skips -1
                    Wanted = (short)(NativeWait.PollIn | (connections[i].WantsToWrite ? NativeWait.PollOut : 0)),
                };
            }

            var wait = open && sending ? Math.Clamp((long)next - now, 0, longestWait) : longestWait;
            NativeWait.Poll(polls, wait);
            for (var i = 0; i < connections.Length; i++)
            {
                if ((polls[i].Ready & ~NativeWait.PollOut) != 0 || (connections[i].Failure is not null && connections[i].Outstanding > 0))
                {
                    connections[i].Receive(ended);
                }
            }

            now = Stopwatch.GetTimestamp();
            if (now >= nextExpiry)
            {
                foreach (var connection in connections)
                {
                    connection.ExpireOlderThan(now - expireAfter, ended);
                }

                nextExpiry = now + Stopwatch.Frequency / 100;
            }

            foreach (var end in ended)
            {
                if (calls.Remove(end.Tag, out var call))
                {
                    Interlocked.Decrement(ref _inFlight);
                    CountClientFailure(end.Reason);
                    Record(call.Intended, now, end.Status, call.Decisions);
                }
            }

            ended.Clear();
        }

        void StartCall(long intended)
        {
            var tag = tags++;
            var decisions = 1;
            byte[] block, message;
            if (_scenario.BatchShare > 0 && random.NextDouble() < _scenario.BatchShare)
            {
                var batch = _mix.NextBatch(random, out _);
                decisions = batch.Requests.Count;
                (block, message) = (batchBlock, batch.ToByteArray());
            }
            else
            {
                (block, message) = (decideBlock, _mix.NextRequest(random, out _).ToByteArray());
            }

            // Round-robin over the connections still open; with none left the call fails at once.
            for (var tries = 0; tries < connections.Length; tries++)
            {
                var connection = connections[turn];
                turn = (turn + 1) % connections.Length;
                if (connection.Failure is null)
                {
                    calls[tag] = (intended, decisions);
                    Interlocked.Increment(ref _inFlight);
                    connection.Start(tag, block, message);
                    return;
                }
            }

            CountClientFailure("no connection open; the last: " + connections[(turn + connections.Length - 1) % connections.Length].Failure);
            Record(intended, Stopwatch.GetTimestamp(), RunResult.ClientFailure, decisions);
        }
    }
}
