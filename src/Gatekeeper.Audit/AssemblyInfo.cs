using System.Runtime.CompilerServices;

// The tests exercise the canonical encoding and the chain hash directly, to pin the on-disk format.
[assembly: InternalsVisibleTo("Gatekeeper.Audit.Tests")]
