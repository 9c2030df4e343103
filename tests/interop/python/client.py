"""A grpcio (gRPC C-core) client that calls the gatekeeper and prints what it saw, one JSON line per case.

It asserts nothing itself: the xunit test that starts it reads the lines and judges them, so that every
expectation lives in one place. Run with Debian's /usr/bin/python3 (python3-grpcio).

usage: client.py --target 127.0.0.1:PORT --protos DIR --scratch DIR
"""

import argparse
import json
import sys
import traceback

import protogen

TESTING = "/gatekeeper.testing.Testing/"


def emit(case, **fields):
    print(json.dumps({"case": case, **fields}, sort_keys=True), flush=True)


def status_fields(error):
    return {"code": error.code().name, "details": error.details()}


def metadata_dict(metadata):
    """Metadata as a dict; binary values (bytes) as hex so they survive JSON."""
    result = {}
    for key, value in metadata or ():
        result[key] = value.hex() if isinstance(value, bytes) else value
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--protos", required=True)
    parser.add_argument("--scratch", required=True)
    args = parser.parse_args()

    protogen.generate(args.protos, args.scratch)
    import grpc
    from gatekeeper.v1 import gatekeeper_pb2 as gk
    from gatekeeper.v1 import gatekeeper_pb2_grpc as gk_grpc
    from gk_health import health_pb2 as hp
    from gk_health import health_pb2_grpc as hp_grpc

    def decide_fields(response):
        return {
            "decision": gk.Decision.Name(response.decision),
            "decision_id": response.decision_id,
            "policy_version": response.policy_version,
            "rule_id": response.rule_id,
            "request_id": response.request_id,
            "obligations": list(response.obligations),
        }

    def testing(channel, method):
        return channel.unary_unary(
            TESTING + method,
            request_serializer=gk.DecideRequest.SerializeToString,
            response_deserializer=gk.DecideResponse.FromString,
        )

    def run(case, body):
        try:
            body()
        except grpc.RpcError as error:
            emit(case, **status_fields(error))
        except Exception:  # noqa: BLE001 - report anything else as an observation
            emit(case, error=traceback.format_exc())

    allowed = dict(category="health_disability", recipient="gp_surgery", purpose="social_care")

    with grpc.insecure_channel(args.target) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = gk_grpc.GatekeeperStub(channel)
        health = hp_grpc.HealthStub(channel)

        def decide():
            response = stub.Decide(gk.DecideRequest(request_id="py-1", **allowed), timeout=10)
            emit("decide", code="OK", **decide_fields(response))

        def decide_invalid():
            stub.Decide(gk.DecideRequest(category="Bad-Id", recipient="gp_surgery", purpose="social_care"), timeout=10)
            emit("decide_invalid", code="OK")

        def batch():
            requests = [
                gk.DecideRequest(request_id=f"py-b{i}", category=category, recipient="gp_surgery", purpose="social_care")
                for i, category in enumerate(["health_disability", "criminal_offence", "health_disability"])
            ]
            response = stub.DecideBatch(gk.DecideBatchRequest(requests=requests), timeout=10)
            emit("batch", code="OK", responses=[decide_fields(r) for r in response.responses])

        def health_check():
            response = health.Check(hp.HealthCheckRequest(service=""), timeout=10)
            emit("health_check", code="OK", status=hp.HealthCheckResponse.ServingStatus.Name(response.status))

        def health_check_unknown():
            health.Check(hp.HealthCheckRequest(service="no.such.Service"), timeout=10)
            emit("health_check_unknown", code="OK")

        def health_watch():
            call = health.Watch(hp.HealthCheckRequest(service="gatekeeper.v1.Gatekeeper"), timeout=10)
            first = next(call)
            call.cancel()
            emit("health_watch", code="OK", status=hp.HealthCheckResponse.ServingStatus.Name(first.status))

        def health_watch_gzip():
            call = health.Watch(hp.HealthCheckRequest(service=""), timeout=10, compression=grpc.Compression.Gzip)
            first = next(call)
            call.cancel()
            emit("health_watch_gzip", code="OK", status=hp.HealthCheckResponse.ServingStatus.Name(first.status))

        def over_limit():
            # 5 MiB against the server's default 4 MiB receive limit: refused from the length prefix.
            stub.Decide(gk.DecideRequest(subject_ref="s" * (5 * 1024 * 1024), **allowed), timeout=10)
            emit("over_limit", code="OK")

        def concurrent():
            futures = [stub.Decide.future(gk.DecideRequest(request_id=f"py-c{i}", **allowed), timeout=10) for i in range(50)]
            ids = [f.result().request_id for f in futures]
            emit("concurrent", code="OK", request_ids=ids)

        def unknown_method():
            channel.unary_unary("/gatekeeper.v1.Gatekeeper/NoSuchMethod")(b"", timeout=10)
            emit("unknown_method", code="OK")

        def unknown_service():
            channel.unary_unary("/no.such.v1.Service/Call")(b"", timeout=10)
            emit("unknown_service", code="OK")

        def gzip():
            response = stub.Decide(gk.DecideRequest(request_id="py-gzip", **allowed), timeout=10, compression=grpc.Compression.Gzip)
            emit("gzip", code="OK", **decide_fields(response))

        def deadline():
            testing(channel, "Wait")(gk.DecideRequest(request_id="py-wait"), timeout=0.001)
            emit("deadline", code="OK")

        def deadline_storm():
            # Many calls whose deadline passes while the server is still reading or waiting: every one must
            # end DEADLINE_EXCEEDED, and none may look like a handler failure on the server.
            codes = {}
            wait = testing(channel, "Wait")
            for i in range(200):
                try:
                    wait(gk.DecideRequest(request_id=f"py-storm{i}"), timeout=0.001)
                    code = "OK"
                except grpc.RpcError as error:
                    code = error.code().name
                codes[code] = codes.get(code, 0) + 1
            emit("deadline_storm", codes=codes)

        def metadata():
            sent = [("x-custom", "hello from grpcio"), ("x-blob-bin", bytes([0, 1, 2, 0x7F, 0x80, 0xFE, 0xFF]))]
            response, call = testing(channel, "Echo").with_call(gk.DecideRequest(request_id="py-echo"), metadata=sent, timeout=10)
            emit(
                "metadata",
                code=call.code().name,
                headers=metadata_dict(call.initial_metadata()),
                trailers=metadata_dict(call.trailing_metadata()),
                body=list(response.explanation),
            )

        def throw():
            testing(channel, "Throw")(gk.DecideRequest(request_id="py-throw"), timeout=10)
            emit("throw", code="OK")

        def fail_unicode():
            testing(channel, "Fail")(gk.DecideRequest(request_id="py-fail"), timeout=10)
            emit("fail_unicode", code="OK")

        cases = [
            ("decide", decide),
            ("decide_invalid", decide_invalid),
            ("batch", batch),
            ("health_check", health_check),
            ("health_check_unknown", health_check_unknown),
            ("health_watch", health_watch),
            ("health_watch_gzip", health_watch_gzip),
            ("over_limit", over_limit),
            ("concurrent", concurrent),
            ("unknown_method", unknown_method),
            ("unknown_service", unknown_service),
            ("gzip", gzip),
            ("deadline", deadline),
            ("deadline_storm", deadline_storm),
            ("metadata", metadata),
            ("throw", throw),
            ("fail_unicode", fail_unicode),
        ]
        for case, body in cases:
            run(case, body)

        # Still answering after all of the above.
        run("after", lambda: (stub.Decide(gk.DecideRequest(request_id="py-after", **allowed), timeout=10), emit("after", code="OK")))

    emit("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
