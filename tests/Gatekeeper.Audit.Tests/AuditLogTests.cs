using System.Text;
using Gatekeeper.Audit.Tests.Support;

namespace Gatekeeper.Audit.Tests;

public sealed class AuditLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ListLogger _logger = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AppendAsync_OneRecord_IsCommittedAndReadsBackCanonically()
    {
        var record = Records.Sample(decision: AuditDecisions.AllowWithConditions, subject: "subject-123",
            time: new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.FromHours(1)));

        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            await log.AppendAsync(record);
            Assert.Equal(1, log.CommittedRecords);
            Assert.Equal(1, log.HeadSequence);
            Assert.Equal(AuditHealth.Healthy, log.Health);
            Assert.True(log.LastCommitLatency > TimeSpan.Zero);
        }

        var entry = Assert.Single(new AuditQuery(_dir.Options()).ReadAll(new AuditQueryFilter()));
        Assert.Equal(1, entry.Sequence);
        Assert.Equal(record.DecisionId, entry.DecisionId);
        Assert.Equal("2026-11-21T09:00:00.0000000Z", entry.TimeText);
        Assert.Equal("""{"consent":"unknown","form":"identifiable","subject_statuses":["child_protection_plan"]}""", entry.ContextJson);
        Assert.Equal("""{"article10":"10","article6":"6(1)(e)","article9":"9(2)(g)","legislation":["DPA 2018 Sch1 Pt2 para 18"]}""", entry.LawfulBasisJson);
        Assert.Equal("""["minimise","record_reasons"]""", entry.ObligationsJson);
        Assert.Equal(record.RequestId, entry.RequestId);
        Assert.Equal("allow_with_conditions", entry.Decision);
        Assert.Equal("miss", entry.FromCache);
        Assert.Equal(64, entry.SubjectHmac.Length);
        Assert.Equal(new string('0', 64), entry.PrevHash);
        Assert.True(AuditVerifier.Verify(_dir.Data).IsValid);
    }

    [Fact]
    public async Task AppendAsync_DefaultTime_TakesTimeFromTheInjectedProvider()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2031, 1, 2, 3, 4, 5, TimeSpan.Zero));
        await using (var log = new AuditLog(_dir.Options(), _logger, clock))
        {
            await log.AppendAsync(Records.Sample());
        }

        var entry = Assert.Single(new AuditQuery(_dir.Options()).ReadAll(new AuditQueryFilter()));
        Assert.Equal("2031-01-02T03:04:05.0000000Z", entry.TimeText);
    }

    [Fact]
    public async Task AppendAsync_ManyConcurrentCallers_AllDurableInOneChainWithBatchesLargerThanOne()
    {
        const int callers = 64;
        const int perCaller = 40;
        var ids = new string[callers * perCaller];
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            var tasks = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
            {
                for (var i = 0; i < perCaller; i++)
                {
                    var id = DecisionIds.New();
                    await log.AppendAsync(Records.Sample(id));
                    ids[c * perCaller + i] = id;
                }
            })).ToArray();
            await Task.WhenAll(tasks);

            Assert.Equal(ids.Length, log.CommittedRecords);
            Assert.True(log.LargestBatchSize > 1, $"group commit never batched (largest batch {log.LargestBatchSize})");
            Assert.True(log.CommittedBatches < ids.Length, $"{log.CommittedBatches} batches for {ids.Length} records");
        }

        var result = AuditVerifier.Verify(_dir.Data);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(ids.Length, result.RecordsChecked);
        var stored = new AuditQuery(_dir.Options()).ReadAll(new AuditQueryFilter()).Select(e => e.DecisionId).ToHashSet();
        Assert.True(ids.All(stored.Contains));
    }

    [Fact]
    public async Task AppendManyAsync_Batch_CommitsAllRecordsTogether()
    {
        var batch = Enumerable.Range(0, 10).Select(_ => Records.Sample()).ToArray();
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            await log.AppendManyAsync(batch);
            Assert.Equal(10, log.LastBatchSize);
        }

        var stored = new AuditQuery(_dir.Options()).ReadAll(new AuditQueryFilter()).Select(e => e.DecisionId).ToArray();
        Assert.Equal(batch.Select(r => r.DecisionId), stored);
    }

    [Fact]
    public async Task AppendAsync_QueueFull_ThrowsAuditUnavailableAtOnce()
    {
        await using var log = new AuditLog(_dir.Options(o => { o.QueueCapacity = 4; o.MaxBatchSize = 1; }), _logger, TimeProvider.System);
        await log.AppendAsync(Records.Sample());

        // Another connection holds the write lock, so the writer blocks inside BEGIN IMMEDIATE and the queue fills.
        using var blocker = AuditDb.Open(_dir.Options());
        using var lockTransaction = blocker.BeginTransaction(deferred: false);

        var accepted = new List<Task>();
        AuditUnavailableException? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            var append = log.AppendAsync(Records.Sample()).AsTask();
            if (append.IsFaulted)
            {
                refused = Assert.IsType<AuditUnavailableException>(append.Exception!.InnerException);
            }
            else
            {
                accepted.Add(append);
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(AuditUnavailableReason.QueueFull, refused.Reason);
        Assert.InRange(accepted.Count, 4, 5); // capacity, plus the one the writer took off the queue
        Assert.All(accepted, t => Assert.False(t.IsCompleted));

        lockTransaction.Rollback();
        await Task.WhenAll(accepted).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(1 + accepted.Count, log.CommittedRecords);
    }

    [Fact]
    public async Task AppendManyAsync_QueueCapacityCountsRecordsNotCalls()
    {
        await using var log = new AuditLog(_dir.Options(o => o.QueueCapacity = 10), _logger, TimeProvider.System);
        await log.AppendAsync(Records.Sample());
        using var blocker = AuditDb.Open(_dir.Options());
        using var lockTransaction = blocker.BeginTransaction(deferred: false);

        // The writer takes the first batch of six and blocks on the lock; the next six wait in the queue.
        var first = log.AppendManyAsync(Batch(6)).AsTask();
        await WaitUntilAsync(() => log.QueueDepth == 0);
        var second = log.AppendManyAsync(Batch(6)).AsTask();
        Assert.Equal(6, log.QueueDepth);
        var third = log.AppendManyAsync(Batch(6)).AsTask();
        var oneMore = log.AppendAsync(Records.Sample()).AsTask();

        // Six waiting plus six is more than ten records: refused at once, although only one call is waiting.
        var refused = Assert.IsType<AuditUnavailableException>(third.Exception?.InnerException);
        Assert.Equal(AuditUnavailableReason.QueueFull, refused.Reason);
        Assert.False(oneMore.IsCompleted); // seven records fit
        Assert.Equal(7, log.QueueDepth);

        lockTransaction.Rollback();
        await Task.WhenAll(first, second, oneMore).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(1 + 6 + 6 + 1, log.CommittedRecords);
        Assert.Equal(0, log.QueueDepth);

        static AuditRecord[] Batch(int size) => Enumerable.Range(0, size).Select(_ => Records.Sample()).ToArray();
    }

    [Fact]
    public async Task AppendManyAsync_LargerThanTheWholeCapacity_GoesThroughAnEmptyQueue()
    {
        await using var log = new AuditLog(_dir.Options(o => o.QueueCapacity = 4), _logger, TimeProvider.System);

        await log.AppendManyAsync(Enumerable.Range(0, 9).Select(_ => Records.Sample()).ToArray());

        Assert.Equal(9, log.CommittedRecords);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true within 15 s");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task DisposeAsync_WithQueuedAppends_CommitsThemThenRefusesNewOnes()
    {
        var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System);
        var pending = Enumerable.Range(0, 200).Select(_ => log.AppendAsync(Records.Sample()).AsTask()).ToArray();
        await log.DisposeAsync();

        await Task.WhenAll(pending);
        var late = await Assert.ThrowsAsync<AuditUnavailableException>(async () => await log.AppendAsync(Records.Sample()));
        Assert.Equal(AuditUnavailableReason.ShuttingDown, late.Reason);
        Assert.Equal(200, AuditVerifier.Verify(_dir.Data).RecordsChecked);
    }

    [Fact]
    public async Task AppendAsync_InvalidDecision_ThrowsArgumentExceptionNotUnavailable()
    {
        await using var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System);
        Assert.Throws<ArgumentException>(() => log.AppendAsync(Records.Sample(decision: "maybe")));
        var notAnObject = new AuditRecord
        {
            DecisionId = DecisionIds.New(),
            Category = "education",
            Recipient = "dfe",
            Purpose = "research",
            Decision = AuditDecisions.Allow,
            Context = "[1,2]",
        };
        Assert.Throws<ArgumentException>(() => log.AppendAsync(notAnObject));
        Assert.Equal(0, log.QueueDepth);
    }

    [Fact]
    public async Task AppendAsync_NonAsciiEmptyAndLongTexts_StoredExactlyAndVerifiedByTheIndependentHash()
    {
        // The writer binds each field straight from the record's encoding and hashes it with OpenSSL's plain SHA-256;
        // verify re-encodes the stored fields and hashes with .NET's. Any difference in length prefixes, UTF-8 or
        // order fails verification.
        var longReason = string.Concat(Enumerable.Repeat("Ysgol Gymraeg – disgyblion ŵ ŷ 😀; ", 400));
        AuditRecord[] records =
        [
            Records.Sample(reason: "Atal twyll – NFI ‘data matching’ €"),
            Records.Sample(reason: longReason),
            Records.Sample(reason: new string(longReason.AsSpan())), // same text, another instance: found by content
            new()
            {
                DecisionId = DecisionIds.New(), Category = "c", Recipient = "r", Purpose = "p", Decision = AuditDecisions.Deny,
                Caller = "", RequestId = "", Context = "", RuleId = "", PolicyVersion = "", Reason = "", TraceId = "",
            },
            Records.Sample(reason: "Atal twyll – NFI ‘data matching’ €"),
        ];

        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            foreach (var record in records)
            {
                await log.AppendAsync(record);
            }
        }

        var result = AuditVerifier.Verify(_dir.Data);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(records.Length, result.RecordsChecked);
        var entries = new AuditQuery(_dir.Options()).ReadAll(new AuditQueryFilter()).ToList();
        Assert.Equal(records.Select(r => r.Reason), entries.Select(e => e.Reason));
        Assert.Equal("", entries[3].Caller);
        Assert.Equal("{}", entries[3].ContextJson);
        Assert.Equal(1, AuditDb.Scalar(_dir.Options(), $"SELECT COUNT(*) FROM audit_texts WHERE text = '{longReason}';"));
    }

    [Fact]
    public async Task Reopen_ExistingLog_ContinuesTheChain()
    {
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            await log.AppendAsync(Records.Sample());
            await log.AppendAsync(Records.Sample());
        }

        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            Assert.Equal(2, log.HeadSequence);
            await log.AppendAsync(Records.Sample());
        }

        var result = AuditVerifier.Verify(_dir.Data);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(3, result.LastSequence);
    }

    [Fact]
    public async Task Checkpoint_EveryNRecordsAndEveryInterval_IsStoredSignedAndLogged()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));
        var options = _dir.Options(o =>
        {
            o.CheckpointEveryRecords = 5;
            o.CheckpointInterval = TimeSpan.FromMinutes(1);
        });
        await using (var log = new AuditLog(options, _logger, clock))
        {
            for (var i = 0; i < 12; i++)
            {
                await log.AppendAsync(Records.Sample());
            }

            clock.Advance(TimeSpan.FromMinutes(2));
            await log.AppendAsync(Records.Sample()); // 13: by time, although only 3 records since the last one
        }

        var sequences = Sqlite3Cli.Run(options.DatabasePath, "SELECT seq FROM audit_checkpoints WHERE kind='periodic' ORDER BY seq;")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["5", "10", "13"], sequences);
        Assert.Equal(3, _logger.Count("AuditCheckpoint"));
        Assert.Contains(_logger.Entries, e => e.Event.Id == 5002 && e.Message.Contains("sequence 13", StringComparison.Ordinal));
        var result = AuditVerifier.Verify(_dir.Data);
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(3, result.CheckpointsChecked);
    }

    [Fact]
    public async Task KeyFile_Generated_HasMode0600AndIsReused()
    {
        string firstHmac;
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            firstHmac = log.HashSubject("person-1");
        }

        var keyPath = _dir.Options().KeyFilePath;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(keyPath).Trim()).Length);
        Assert.Equal(1, _logger.Count("AuditKeyGenerated"));

        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            Assert.Equal(firstHmac, log.HashSubject("person-1"));
        }

        Assert.Equal(1, _logger.Count("AuditKeyGenerated"));
    }

    [Fact]
    public async Task Open_WithADifferentKey_Refuses()
    {
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            await log.AppendAsync(Records.Sample());
        }

        var other = Convert.ToBase64String(new byte[32]);
        var error = Assert.Throws<InvalidOperationException>(() => new AuditLog(_dir.Options(o => o.SubjectHmacKey = other), _logger, TimeProvider.System));
        Assert.Contains("not the key this log was written with", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubjectRef_IsNeverStoredInClear()
    {
        const string subject = "NHS-943-476-5919-CLEARTEXT";
        string hmac;
        await using (var log = new AuditLog(_dir.Options(), _logger, TimeProvider.System))
        {
            hmac = log.HashSubject(subject);
            for (var i = 0; i < 50; i++)
            {
                await log.AppendAsync(Records.Sample(subject: subject));
            }

            // While running, the records sit in the WAL: check every file of the store, not just audit.db.
            AssertNotInFiles(subject, hmac);
        }

        AssertNotInFiles(subject, hmac);
        Assert.Equal(50, new AuditQuery(_dir.Options()).ReadAll(new AuditQueryFilter { Subject = subject }).Count());
    }

    private void AssertNotInFiles(string subject, string hmac)
    {
        var clear = Encoding.UTF8.GetBytes(subject);
        var hashed = Encoding.UTF8.GetBytes(hmac);
        var foundHmac = false;
        foreach (var file in Directory.GetFiles(_dir.Data))
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }

            Assert.True(bytes.AsSpan().IndexOf(clear) < 0, $"clear subject found in {file}");
            foundHmac |= bytes.AsSpan().IndexOf(hashed) >= 0;
        }

        Assert.True(foundHmac, "the subject HMAC should be stored");
    }
}
