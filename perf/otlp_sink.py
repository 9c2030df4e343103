#!/usr/bin/env python3
"""A null OTLP/HTTP receiver for the telemetry overhead benchmark (perf/otel-overhead.sh): answers 200 to every
POST (/v1/traces, /v1/metrics, /v1/logs) with an empty export response, and counts requests, bytes and spans.
Trace bodies are only spooled to a file next to STATS_FILE during the run (a long run's spans did not fit in memory
comfortably) and parsed at the end, so that the receiver takes little CPU from the load generator it shares a core
with.
usage: otlp_sink.py PORT STATS_FILE   (stats are written as JSON on SIGTERM/SIGINT)"""
import http.server
import json
import os
import signal
import sys
import threading

lock = threading.Lock()
stats = {}
spool = None


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def fields(buf):
    """(field number, wire type, value or (start, end)) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
            yield number, wire, value
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, i = varint(buf, i)
            yield number, wire, buf[i:i + length]
            i += length
        else:
            raise ValueError("unsupported wire type %d" % wire)


def count_spans(body):
    # ExportTraceServiceRequest.resource_spans = 1 -> ResourceSpans.scope_spans = 2 -> ScopeSpans.spans = 2
    spans = 0
    for n, w, resource_spans in fields(body):
        if n == 1 and w == 2:
            for n2, w2, scope_spans in fields(resource_spans):
                if n2 == 2 and w2 == 2:
                    spans += sum(1 for n3, w3, _ in fields(scope_spans) if n3 == 2 and w3 == 2)
    return spans


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        with lock:
            entry = stats.setdefault(self.path, {"requests": 0, "bytes": 0})
            entry["requests"] += 1
            entry["bytes"] += len(body)
            if self.path == "/v1/traces":
                spool.write(len(body).to_bytes(4, "big"))
                spool.write(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1])
    out = sys.argv[2]
    global spool
    spool_path = out + ".spool"
    spool = open(spool_path, "w+b")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink)

    def stop(*_):
        with lock:
            if "/v1/traces" in stats:
                spool.seek(0)
                spans = 0
                while header := spool.read(4):
                    spans += count_spans(spool.read(int.from_bytes(header, "big")))
                stats["/v1/traces"]["spans"] = spans
            spool.close()
            os.unlink(spool_path)
            with open(out, "w") as f:
                json.dump(stats, f)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
