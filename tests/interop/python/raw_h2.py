"""Speaks HTTP/2 frames to the gatekeeper directly (python3-h2), sending requests no well-behaved gRPC
client would send, and prints what came back: one JSON line per case. The xunit test judges the lines.

Each case uses its own connection, so that one case cannot hide a broken connection from the next.

usage: raw_h2.py --host 127.0.0.1 --port PORT
"""

import argparse
import gzip
import json
import socket
import struct
import sys
import time
import traceback

import h2.config
import h2.connection
import h2.events

DECIDE = "/gatekeeper.v1.Gatekeeper/Decide"


def field(number, text):
    """One protobuf string field (wire type 2); lengths here stay under 128, so one varint byte."""
    data = text.encode("utf-8")
    return bytes([(number << 3) | 2, len(data)]) + data


VALID_REQUEST = field(1, "health_disability") + field(2, "gp_surgery") + field(3, "social_care") + field(5, "raw-h2")


def frame(payload, flag=0, length=None):
    return struct.pack(">BI", flag, len(payload) if length is None else length) + payload


def exchange(host, port, path=DECIDE, method="POST", content_type="application/grpc", extra=(), chunks=(), end_stream=True, timeout=5.0):
    """Sends one request and reads its response until the stream ends, is reset, or timeout passes."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        sid = conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", "http"), (":path", path), (":authority", f"{host}:{port}")]
        if content_type is not None:
            headers.append(("content-type", content_type))
        headers += [("te", "trailers"), *extra]
        chunks = list(chunks)
        conn.send_headers(sid, headers, end_stream=end_stream and not chunks)
        for i, chunk in enumerate(chunks):
            conn.send_data(sid, chunk, end_stream=end_stream and i == len(chunks) - 1)
        sock.sendall(conn.data_to_send())

        result = {"headers": {}, "trailers": {}, "data_hex": "", "ended": False, "reset": None, "trailers_only": False}
        data = b""
        started = time.monotonic()
        deadline = started + timeout
        done = False
        while not done:
            left = deadline - time.monotonic()
            if left <= 0:
                result["timed_out"] = True
                break
            sock.settimeout(left)
            try:
                received = sock.recv(65536)
            except socket.timeout:
                result["timed_out"] = True
                break
            if not received:
                result["connection_closed"] = True
                break
            for event in conn.receive_data(received):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == sid:
                    result["headers"] = dict(event.headers)
                    result["trailers_only"] = event.stream_ended is not None
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == sid:
                    data += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, sid)
                elif isinstance(event, h2.events.TrailersReceived) and event.stream_id == sid:
                    result["trailers"] = dict(event.headers)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == sid:
                    result["ended"] = True
                    done = True
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == sid:
                    result["reset"] = int(event.error_code)
                    done = True
                elif isinstance(event, h2.events.ConnectionTerminated):
                    result["goaway"] = int(event.error_code)
                    done = True
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)
        result["elapsed_ms"] = round((time.monotonic() - started) * 1000)
        result["data_hex"] = data.hex()
        status_source = result["trailers"] or result["headers"]
        result["http_status"] = int(result["headers"][":status"]) if ":status" in result["headers"] else None
        result["grpc_status"] = int(status_source["grpc-status"]) if "grpc-status" in status_source else None
        result["grpc_message"] = status_source.get("grpc-message")
        if data[:1] == b"\x01" and len(data) >= 5:
            result["inflated_length"] = len(gzip.decompress(data[5:]))
        return result
    finally:
        sock.close()


def reset_mid_body(host, port, timeout=5.0):
    """Sends half a message, then RST_STREAM(CANCEL), as a client whose deadline passed does; then a valid
    call on the same connection, to see that the server took the reset in its stride."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        headers = [(":method", "POST"), (":scheme", "http"), (":path", DECIDE), (":authority", f"{host}:{port}"),
                   ("content-type", "application/grpc"), ("te", "trailers")]
        # Many streams wait for the rest of their message; then every one is reset at once, as clients
        # whose deadline passed do. Each reset races Kestrel's RequestAborted signal.
        sids = []
        for _ in range(90):
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, headers)
            conn.send_data(sid, frame(VALID_REQUEST)[:8])
            sids.append(sid)
        sock.sendall(conn.data_to_send())
        time.sleep(0.2)
        for sid in sids:
            conn.reset_stream(sid, error_code=8)
        sock.sendall(conn.data_to_send())
        time.sleep(0.3)
    finally:
        sock.close()
    return exchange(host, port, chunks=[frame(VALID_REQUEST)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    def case(name, **kwargs):
        try:
            result = exchange(args.host, args.port, **kwargs)
        except Exception:  # noqa: BLE001 - an observation like any other
            result = {"error": traceback.format_exc()}
        print(json.dumps({"case": name, **result}, sort_keys=True), flush=True)

    case("ok", chunks=[frame(VALID_REQUEST)])
    case("content_type", content_type="text/plain", chunks=[frame(VALID_REQUEST)])
    case("no_content_type", content_type=None, chunks=[frame(VALID_REQUEST)])
    case("get", method="GET")
    case("truncated", chunks=[frame(b"\x0a" * 10, length=100)])
    case("truncated_prefix", chunks=[b"\x00\x00\x00"])
    # The prefix alone, stream left open: the answer must come from the prefix, before any body.
    case("oversized", chunks=[frame(b"", length=0xFFFFFFF0)], end_stream=False)
    case("compressed_no_encoding", chunks=[frame(gzip.compress(VALID_REQUEST), flag=1)])
    case("unknown_encoding", extra=[("grpc-encoding", "br")], chunks=[frame(b"\x1b\x03", flag=1)])
    case("bad_flag", chunks=[frame(VALID_REQUEST, flag=2)])
    case("two_messages", chunks=[frame(VALID_REQUEST) + frame(VALID_REQUEST)])
    case("two_messages_two_frames", chunks=[frame(VALID_REQUEST), frame(VALID_REQUEST)])
    case("zero_messages")
    case("garbage", chunks=[frame(b"\xff\xff\xff\xff\xff")])
    case("bad_gzip", extra=[("grpc-encoding", "gzip")], chunks=[frame(b"not gzip at all", flag=1)])
    case(
        "gzip",
        extra=[("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")],
        chunks=[frame(gzip.compress(VALID_REQUEST), flag=1)],
    )
    case("unknown_method", path="/gatekeeper.v1.Gatekeeper/Nope", chunks=[frame(b"")])
    case(
        "binary_metadata",
        path="/gatekeeper.testing.Testing/Echo",
        extra=[("x-padded-bin", "AAECf4D+/w=="), ("x-unpadded-bin", "AAECf4D+/w"), ("x-text", "plain value")],
        chunks=[frame(b"")],
    )
    case("bad_timeout", extra=[("grpc-timeout", "soon")], chunks=[frame(VALID_REQUEST)])
    # Legal values beyond what timers hold (about 49.7 days) and beyond year 9999.
    case("long_timeout", extra=[("grpc-timeout", "1200H")], chunks=[frame(VALID_REQUEST)])
    case("huge_timeout", extra=[("grpc-timeout", "99999999H")], chunks=[frame(VALID_REQUEST)])
    case("timeout", path="/gatekeeper.testing.Testing/Wait", extra=[("grpc-timeout", "50m")], chunks=[frame(b"")])
    case("percent", path="/gatekeeper.testing.Testing/Fail", chunks=[frame(b"")])
    try:
        result = reset_mid_body(args.host, args.port)
    except Exception:  # noqa: BLE001
        result = {"error": traceback.format_exc()}
    print(json.dumps({"case": "reset_mid_body", **result}, sort_keys=True), flush=True)
    case("after", chunks=[frame(VALID_REQUEST)])
    print(json.dumps({"case": "done"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
