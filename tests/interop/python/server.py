"""A grpcio (gRPC C-core) server of gatekeeper.v1.Gatekeeper and grpc.health.v1.Health, for proving the
.NET client against a gRPC implementation nobody here wrote.

Its answers are recognisable (rule ids start with "grpcio_") and depend on the request's category:
  slow          waits until the caller's deadline passes (or 10 s), for deadline tests
  fail_unicode  fails with FAILED_PRECONDITION and a non-ASCII message (percent-decoding)
  invalid       fails with INVALID_ARGUMENT
  gzip_reply    answers with a gzip-compressed message
  anything else answers DECISION_ALLOW, echoing request_id and the caller's x-* metadata

Prints {"port": N} once listening on 127.0.0.1, then serves until its standard input closes.

usage: server.py --protos DIR --scratch DIR
"""

import argparse
import itertools
import json
import sys
import threading
import time
from concurrent import futures

import protogen

UNICODE_DETAIL = "Refusé: données ☃ 100% sûres\tet \"citées\""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--protos", required=True)
    parser.add_argument("--scratch", required=True)
    args = parser.parse_args()

    protogen.generate(args.protos, args.scratch)
    import grpc
    from gatekeeper.v1 import gatekeeper_pb2 as gk
    from gatekeeper.v1 import gatekeeper_pb2_grpc as gk_grpc
    from gk_health import health_pb2 as hp
    from gk_health import health_pb2_grpc as hp_grpc

    counter = itertools.count(1)

    def caller_metadata(context):
        pairs = []
        for key, value in context.invocation_metadata():
            if key.startswith("x-"):
                pairs.append((key, value.hex() if isinstance(value, bytes) else value))
        return pairs

    class Gatekeeper(gk_grpc.GatekeeperServicer):
        def Decide(self, request, context):
            if request.category == "slow":
                until = time.monotonic() + 10
                while context.is_active() and time.monotonic() < until:
                    time.sleep(0.01)
                return gk.DecideResponse(rule_id="grpcio_slow")
            if request.category == "fail_unicode":
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, UNICODE_DETAIL)
            if request.category == "invalid":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "category: rejected by the grpcio server.")
            if request.category == "gzip_reply":
                context.set_compression(grpc.Compression.Gzip)

            received = caller_metadata(context)
            context.send_initial_metadata([("x-server", "grpcio")] + [("x-echo-" + k[2:], v) for k, v in received if not k.endswith("-bin")])
            context.set_trailing_metadata([("x-trailer", "grpcio-trailer"), ("x-trailer-bin", bytes([0, 0xFF, 0x10]))])
            remaining = context.time_remaining()
            explanation = [f"{k}={v}" for k, v in received]
            explanation.append("deadline=none" if remaining is None else f"deadline={remaining:.3f}")
            return gk.DecideResponse(
                decision=gk.DECISION_ALLOW,
                decision_id=f"grpcio-{next(counter)}",
                policy_version="grpcio-server",
                rule_id="grpcio_decide",
                reason=f"{request.category}/{request.recipient}/{request.purpose}",
                request_id=request.request_id,
                explanation=explanation,
            )

        def DecideBatch(self, request, context):
            responses = [
                gk.DecideResponse(
                    decision=gk.DECISION_DENY,
                    decision_id=f"grpcio-{next(counter)}",
                    policy_version="grpcio-server",
                    rule_id=f"grpcio_batch_{i}",
                    request_id=r.request_id,
                )
                for i, r in enumerate(request.requests)
            ]
            return gk.DecideBatchResponse(responses=responses)

    class Health(hp_grpc.HealthServicer):
        def Check(self, request, context):
            if request.service in ("", "gatekeeper.v1.Gatekeeper"):
                return hp.HealthCheckResponse(status=hp.HealthCheckResponse.SERVING)
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service}")

        def Watch(self, request, context):
            yield hp.HealthCheckResponse(status=hp.HealthCheckResponse.SERVING)
            while context.is_active():
                time.sleep(0.02)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    gk_grpc.add_GatekeeperServicer_to_server(Gatekeeper(), server)
    hp_grpc.add_HealthServicer_to_server(Health(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(json.dumps({"port": port}), flush=True)

    # Serve until the test closes our standard input (or kills us).
    stopped = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stopped.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    stopped.wait()
    server.stop(grace=0).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
