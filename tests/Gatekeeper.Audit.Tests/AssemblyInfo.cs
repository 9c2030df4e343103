using System.Runtime.Versioning;

// These tests use Linux facilities for real faults and crashes: tmpfs mounts, SIGKILL, file modes, /usr/bin/sqlite3.
[assembly: SupportedOSPlatform("linux")]
