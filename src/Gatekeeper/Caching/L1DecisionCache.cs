using System.Collections.Concurrent;
using Gatekeeper.Policy;

namespace Gatekeeper.Caching;

/// <summary>
/// The in-process decision cache: two generations of a concurrent map. New entries go to the young one;
/// when it is full (entries or estimated bytes) it becomes the old one and the previous old one is dropped,
/// so the cache never holds more than its limits, and anything used since the last turn survives (a hit in
/// the old generation moves the entry to the young one). Lookups take no lock.
/// </summary>
public sealed class L1DecisionCache
{
    private const int EntryOverheadBytes = 160;
    private readonly long _generationEntries;
    private readonly long _generationBytes;
    private readonly Lock _turn = new();
    private Generation _young = new();
    private Generation _old = new();

    /// <summary>A cache of at most <paramref name="maxEntries"/> decisions and about <paramref name="maxBytes"/> bytes; 0 turns it off.</summary>
    public L1DecisionCache(int maxEntries, long maxBytes)
    {
        _generationEntries = maxEntries / 2;
        _generationBytes = maxBytes / 2;
    }

    /// <summary>False when configured off.</summary>
    public bool Enabled => _generationEntries > 0 && _generationBytes > 0;

    /// <summary>Decisions held now (both generations).</summary>
    public int Count => _young.Map.Count + _old.Map.Count;

    /// <summary>The decision for <paramref name="key"/>, if cached.</summary>
    public bool TryGet(in DecisionKey key, out PolicyOutcome outcome)
    {
        if (_young.Map.TryGetValue(key, out outcome!))
        {
            return true;
        }

        if (_old.Map.TryGetValue(key, out outcome!))
        {
            Set(key, outcome);
            return true;
        }

        return false;
    }

    /// <summary>Caches a decision.</summary>
    public void Set(in DecisionKey key, PolicyOutcome outcome)
    {
        if (!Enabled)
        {
            return;
        }

        var young = _young;
        if (young.Map.TryAdd(key, outcome))
        {
            var entries = Interlocked.Increment(ref young.Entries);
            var bytes = Interlocked.Add(ref young.Bytes, EntryOverheadBytes + (2L * key.TextLength));
            if (entries >= _generationEntries || bytes >= _generationBytes)
            {
                Turn(young);
            }
        }
    }

    /// <summary>Drops everything, e.g. when the fleet moved to another policy version.</summary>
    public void Clear()
    {
        lock (_turn)
        {
            _old = new Generation();
            _young = new Generation();
        }
    }

    private void Turn(Generation full)
    {
        lock (_turn)
        {
            if (!ReferenceEquals(_young, full))
            {
                return; // another thread turned already
            }

            _old = full;
            _young = new Generation();
        }
    }

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<DecisionKey, PolicyOutcome> Map = new();
        public long Entries;
        public long Bytes;
    }
}
