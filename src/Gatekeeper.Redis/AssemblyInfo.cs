using System.Runtime.CompilerServices;

// The tests drive the RESP parser and raw commands directly; the benchmark measures the same client.
[assembly: InternalsVisibleTo("Gatekeeper.Redis.Tests")]
[assembly: InternalsVisibleTo("Gatekeeper.Benchmarks")]
