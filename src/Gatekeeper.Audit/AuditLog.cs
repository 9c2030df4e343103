using System.Diagnostics;
using System.Threading.Channels;
using Gatekeeper.Audit.Internal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Audit;

/// <summary>
/// The durable decision log. <see cref="AppendAsync"/> completes only once the record's batch is committed and
/// fsynced; a single writer thread drains a bounded queue and commits each batch in one transaction (group
/// commit), so the cost of the fsync is shared by every caller that arrived while the previous one ran.
/// </summary>
public sealed class AuditLog : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly Channel<PendingAppend> _queue;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly AuditKey _key;
    private readonly string _databasePath;
    private readonly int _queueCapacity;
    private readonly int _maxBatchSize;
    private readonly int _checkpointEveryRecords;
    private readonly TimeSpan _checkpointInterval;
    private readonly Thread _writer;
    private readonly TaskCompletionSource _writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Writer-thread state: only the writer touches these after construction.
    private SqliteConnection? _connection;
    private RecordInserter? _inserter;
    private byte[] _headHash = RecordFormat.GenesisHash();
    private long _recordsSinceCheckpoint;
    private long _lastCheckpointTimestamp;
    private long _failedBatchesInARow;

    // Published to other threads (metrics, health).
    private long _headSequence;
    private int _queuedRecords;
    private long _lastCommitLatencyTicks;
    private long _committedRecords;
    private long _committedBatches;
    private long _failedBatches;
    private int _lastBatchSize;
    private int _largestBatchSize;
    private int _health;
    private volatile bool _disposed;

    /// <summary>Opens (or creates) the store, loads or generates the key, and starts the writer.</summary>
    /// <exception cref="ArgumentException">Invalid options (every problem listed).</exception>
    /// <exception cref="SqliteException">The store cannot be opened at start-up: the service must not start.</exception>
    public AuditLog(AuditOptions options, ILogger logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.ThrowIfInvalid();

        _logger = logger;
        _timeProvider = timeProvider;
        _databasePath = options.DatabasePath;
        _queueCapacity = options.QueueCapacity;
        _maxBatchSize = options.MaxBatchSize;
        _checkpointEveryRecords = options.CheckpointEveryRecords;
        _checkpointInterval = options.CheckpointInterval;

        Directory.CreateDirectory(options.DataDirectory);
        _key = AuditKey.Load(options, createIfMissing: true, logger)!;
        OpenConnection();
        try
        {
            // Make the database's (and WAL's) directory entries durable before the first acknowledgement.
            DirectorySync.Sync(Path.GetFullPath(options.DataDirectory));
        }
        catch
        {
            CloseConnection();
            throw;
        }

        _lastCheckpointTimestamp = timeProvider.GetTimestamp();
        AuditLogMessages.Opened(logger, _databasePath, _headSequence);

        // Unbounded as a channel (lock-free for the callers), bounded by the records it holds (Enqueue): a DecideBatch
        // append carries up to 100 records, so a bound on appends would not bound memory.
        _queue = Channel.CreateUnbounded<PendingAppend>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "gatekeeper-audit-writer" };
        _writer.Start();
    }

    /// <summary>Records waiting for the writer (an AppendManyAsync counts each of its records).</summary>
    public int QueueDepth => Volatile.Read(ref _queuedRecords);

    /// <summary>Time from BEGIN to the end of COMMIT (including the fsync) of the last successful batch.</summary>
    public TimeSpan LastCommitLatency => TimeSpan.FromTicks(Interlocked.Read(ref _lastCommitLatencyTicks));

    public AuditHealth Health => (AuditHealth)Volatile.Read(ref _health);

    public long CommittedRecords => Interlocked.Read(ref _committedRecords);

    public long CommittedBatches => Interlocked.Read(ref _committedBatches);

    public long FailedBatches => Interlocked.Read(ref _failedBatches);

    public int LastBatchSize => Volatile.Read(ref _lastBatchSize);

    /// <summary>Largest batch committed so far: above 1 shows group commit at work.</summary>
    public int LargestBatchSize => Volatile.Read(ref _largestBatchSize);

    /// <summary>Sequence number of the last committed record.</summary>
    public long HeadSequence => Interlocked.Read(ref _headSequence);

    /// <summary>The HMAC that <paramref name="subjectRef"/> is stored as (empty for an empty reference).</summary>
    public string HashSubject(string subjectRef)
    {
        ArgumentNullException.ThrowIfNull(subjectRef);
        return _key.HashSubject(subjectRef);
    }

    /// <summary>
    /// Completes once the record is durable. Faults with <see cref="AuditUnavailableException"/> when the queue
    /// is full (at once), when its batch fails to commit, or during shutdown: the caller must then answer
    /// UNAVAILABLE. Cancelling stops the wait only; the record may still be committed.
    /// </summary>
    /// <exception cref="ArgumentException">The record is malformed (a bug in the caller, not an outage).</exception>
    public ValueTask AppendAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return Enqueue(new PendingAppend([PreparedRecord.Create(record, _key, _timeProvider)]), cancellationToken);
    }

    /// <summary>Appends several records (DecideBatch) in one batch: all become durable together or all fail.</summary>
    public ValueTask AppendManyAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        if (records.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        var prepared = new PreparedRecord[records.Count];
        for (var i = 0; i < prepared.Length; i++)
        {
            prepared[i] = PreparedRecord.Create(records[i], _key, _timeProvider);
        }

        return Enqueue(new PendingAppend(prepared), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        _queue.Writer.TryComplete();
        // The writer drains what is already queued, so accepted records are still committed (or failed) on shutdown.
        await _writerStopped.Task.ConfigureAwait(false);
    }

    private ValueTask Enqueue(PendingAppend pending, CancellationToken cancellationToken)
    {
        var count = pending.Records.Length;
        var queued = Interlocked.Add(ref _queuedRecords, count);
        // An append larger than the whole capacity still goes through an empty queue, so that it is not refused forever.
        var fits = queued <= _queueCapacity || queued == count;
        if (fits && !_disposed && _queue.Writer.TryWrite(pending))
        {
            var task = pending.Completion.Task;
            return new ValueTask(cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task);
        }

        Interlocked.Add(ref _queuedRecords, -count);

        if (_disposed)
        {
            return ValueTask.FromException(new AuditUnavailableException(
                "The audit log is shutting down.", AuditUnavailableReason.ShuttingDown));
        }

        AuditLogMessages.QueueFull(_logger, _queueCapacity);
        return ValueTask.FromException(new AuditUnavailableException(
            $"The audit queue is full ({_queueCapacity} records waiting).", AuditUnavailableReason.QueueFull));
    }

    private void WriterLoop()
    {
        var batch = new List<PendingAppend>();
        var retryDelay = FirstRetryDelay;
        try
        {
            while (true)
            {
                if (_failedBatchesInARow > 0 && QueueDepth == 0 && !_disposed)
                {
                    // Failing and idle: probe, so that Health turns back to Healthy when the store does even if no
                    // traffic arrives (a health check reporting NOT_SERVING would otherwise keep traffic away forever).
                    if (TryProbe())
                    {
                        MarkRecovered();
                        retryDelay = FirstRetryDelay;
                    }
                    else
                    {
                        CloseConnection();
                        Task.Delay(retryDelay, _timeProvider).GetAwaiter().GetResult();
                        retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                        continue;
                    }
                }

                if (!WaitForWork())
                {
                    break;
                }

                var recordCount = TakeBatch(batch);
                Exception? failure = null;
                try
                {
                    Commit(batch, recordCount);
                }
                catch (Exception ex)
                {
                    // Any failure at all (SQLITE_FULL, SQLITE_IOERR, read-only, a vanished directory...) is an outage
                    // for these callers: none of them may be acknowledged.
                    failure = ex;
                }

                if (failure is null)
                {
                    foreach (var pending in batch)
                    {
                        pending.Completion.TrySetResult();
                    }

                    MarkRecovered();
                    retryDelay = FirstRetryDelay;
                    continue;
                }

                OnBatchFailed(batch, recordCount, failure, retryDelay);
                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
        catch (Exception ex)
        {
            AuditLogMessages.WriterCrashed(_logger, ex);
            _disposed = true;
            _queue.Writer.TryComplete();
            FailAll(batch, ex);
            while (_queue.Reader.TryRead(out var pending))
            {
                pending.Completion.TrySetException(Unavailable(ex));
            }
        }
        finally
        {
            CloseConnection();
            AuditLogMessages.Stopped(_logger, HeadSequence);
            _writerStopped.TrySetResult();
        }
    }

    private void MarkRecovered()
    {
        if (_failedBatchesInARow > 0)
        {
            AuditLogMessages.Recovered(_logger, _failedBatchesInARow, HeadSequence);
            _failedBatchesInARow = 0;
        }

        Volatile.Write(ref _health, (int)AuditHealth.Healthy);
    }

    /// <summary>A small real write (reopen if needed, then one committed, fsynced row outside the chain).</summary>
    private bool TryProbe()
    {
        try
        {
            if (_connection is null)
            {
                OpenConnection();
            }

            using var transaction = _connection!.BeginTransaction(deferred: false);
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT OR REPLACE INTO audit_meta (key, value) VALUES ('last_probe', $time);";
            command.Parameters.AddWithValue("$time", RecordFormat.FormatTime(_timeProvider.GetUtcNow()));
            command.ExecuteNonQuery();
            transaction.Commit();
            return true;
        }
        catch (Exception)
        {
            // Still failing; the batch failure that started this was logged, a log line per probe would be noise.
            return false;
        }
    }

    private bool WaitForWork()
    {
        // A dedicated thread may block: SQLite calls (and the fsync) are synchronous anyway.
        var wait = _queue.Reader.WaitToReadAsync();
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private int TakeBatch(List<PendingAppend> batch)
    {
        batch.Clear();
        var recordCount = 0;
        // Take whatever queued while the previous commit ran: that is the group in group commit.
        while (_queue.Reader.TryPeek(out var next)
            && (batch.Count == 0 || recordCount + next.Records.Length <= _maxBatchSize)
            && _queue.Reader.TryRead(out next))
        {
            batch.Add(next);
            recordCount += next.Records.Length;
            Interlocked.Add(ref _queuedRecords, -next.Records.Length);
        }

        return recordCount;
    }

    private void Commit(List<PendingAppend> batch, int recordCount)
    {
        if (_connection is null)
        {
            // Reopen after a failure, re-reading the head from disk: a commit that reported an error may in fact
            // have reached the WAL, and the chain must continue from what is really there.
            OpenConnection();
        }

        var connection = _connection!;
        var inserter = _inserter!;
        var started = _timeProvider.GetTimestamp();
        var transaction = connection.BeginTransaction(deferred: false);
        var sequence = Interlocked.Read(ref _headSequence);
        var prevHash = _headHash;
        var checkpointWritten = false;
        try
        {
            foreach (var pending in batch)
            {
                foreach (var record in pending.Records)
                {
                    sequence++;
                    var hash = RecordFormat.ChainHash(prevHash, record.Encoded);
                    inserter.Insert(sequence, record.Fields, record.Encoded, prevHash, hash);
                    prevHash = hash;
                }
            }

            if (_recordsSinceCheckpoint + recordCount >= _checkpointEveryRecords
                || _timeProvider.GetElapsedTime(_lastCheckpointTimestamp) >= _checkpointInterval)
            {
                // Same transaction as the records it names: a checkpoint can never point past the committed head.
                AuditStore.InsertCheckpoint(connection, transaction, _key, AuditStore.PeriodicCheckpoint, sequence, prevHash, _timeProvider.GetUtcNow());
                checkpointWritten = true;
            }

            transaction.Commit();
        }
        catch
        {
            SafeRollback(transaction);
            throw;
        }
        finally
        {
            transaction.Dispose();
        }

        // Only now does the head advance: a failed batch leaves the chain exactly where the disk has it.
        _headHash = prevHash;
        Interlocked.Exchange(ref _headSequence, sequence);
        Interlocked.Exchange(ref _lastCommitLatencyTicks, _timeProvider.GetElapsedTime(started).Ticks);
        Interlocked.Add(ref _committedRecords, recordCount);
        Interlocked.Increment(ref _committedBatches);
        Volatile.Write(ref _lastBatchSize, recordCount);
        if (recordCount > _largestBatchSize)
        {
            Volatile.Write(ref _largestBatchSize, recordCount);
        }

        if (checkpointWritten)
        {
            _recordsSinceCheckpoint = 0;
            _lastCheckpointTimestamp = _timeProvider.GetTimestamp();
            AuditLogMessages.Checkpoint(_logger, sequence, Convert.ToHexStringLower(prevHash));
        }
        else
        {
            _recordsSinceCheckpoint += recordCount;
        }
    }

    private void OnBatchFailed(List<PendingAppend> batch, int recordCount, Exception failure, TimeSpan retryDelay)
    {
        Volatile.Write(ref _health, (int)AuditHealth.Failing);
        Interlocked.Increment(ref _failedBatches);
        _failedBatchesInARow++;
        AuditLogMessages.BatchFailed(_logger, failure, recordCount, (long)retryDelay.TotalMilliseconds);
        CloseConnection();
        FailAll(batch, failure);
        if (!_disposed)
        {
            // Back off so that a full disk is not hammered; appends queued meanwhile are the next attempt.
            Task.Delay(retryDelay, _timeProvider).GetAwaiter().GetResult();
        }
    }

    private static void FailAll(List<PendingAppend> batch, Exception failure)
    {
        foreach (var pending in batch)
        {
            pending.Completion.TrySetException(Unavailable(failure));
        }

        batch.Clear();
    }

    private static AuditUnavailableException Unavailable(Exception failure) =>
        new($"The audit store failed to commit: {failure.Message}", AuditUnavailableReason.StoreFailing, failure);

    private void OpenConnection()
    {
        var connection = AuditStore.OpenWriter(_databasePath);
        try
        {
            AuditStore.EnsureSchema(connection, _key);
            var (sequence, hash) = AuditStore.ReadHead(connection);
            // Compiled once per connection and reused for every row of every batch.
            _inserter = new RecordInserter(connection);
            _connection = connection;
            _headHash = hash;
            Interlocked.Exchange(ref _headSequence, sequence);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void CloseConnection()
    {
        try
        {
            // The statement first: a connection closed with a live statement lingers as a zombie until it is finalised.
            _inserter?.Dispose();
            _connection?.Dispose();
        }
        catch (SqliteException)
        {
            // Closing a connection whose file failed must not stop the writer from reopening it.
        }
        finally
        {
            _inserter = null;
            _connection = null;
        }
    }

    private static void SafeRollback(SqliteTransaction transaction)
    {
        try
        {
            transaction.Rollback();
        }
        catch (SqliteException)
        {
            // SQLite already rolled back (e.g. after SQLITE_FULL); the connection is discarded anyway.
        }
        catch (InvalidOperationException)
        {
            // The transaction had completed.
        }
    }
}
