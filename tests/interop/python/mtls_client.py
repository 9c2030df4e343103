"""A grpcio (gRPC C-core) client that calls the gatekeeper over mutual TLS and prints one JSON line per case.

Cases: "trusted" (client certificate from the trusted CA), "no_cert" (server trusted, no client
certificate), then "done". It asserts nothing; the xunit test judges the lines.

usage: mtls_client.py --target 127.0.0.1:PORT --protos DIR --scratch DIR --ca CA.pem --cert C.pem --key C.key
"""

import argparse
import json
import traceback

import protogen


def emit(case, **fields):
    print(json.dumps({"case": case, **fields}, sort_keys=True), flush=True)


def main():
    parser = argparse.ArgumentParser()
    for name in ("--target", "--protos", "--scratch", "--ca", "--cert", "--key"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()

    protogen.generate(args.protos, args.scratch)
    import grpc
    from gatekeeper.v1 import gatekeeper_pb2 as gk
    from gatekeeper.v1 import gatekeeper_pb2_grpc as gk_grpc

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    root, key, chain = read(args.ca), read(args.key), read(args.cert)
    # The server certificate names localhost and 127.0.0.1; the override keeps the check independent of how
    # this grpcio version matches IP SANs.
    options = [("grpc.ssl_target_name_override", "localhost")]
    request = gk.DecideRequest(
        category="cpis_flag",
        recipient="nhs_cpis",
        purpose="cpis_alert",
        request_id="grpcio-mtls",
        context=gk.DecisionContext(subject_statuses=["looked_after"]),
    )

    for case, credentials in (
        ("trusted", grpc.ssl_channel_credentials(root, key, chain)),
        ("no_cert", grpc.ssl_channel_credentials(root)),
    ):
        try:
            with grpc.secure_channel(args.target, credentials, options) as channel:
                response = gk_grpc.GatekeeperStub(channel).Decide(request, timeout=15)
                emit(case, code="OK", decision=gk.Decision.Name(response.decision), decision_id=response.decision_id)
        except grpc.RpcError as error:
            emit(case, code=error.code().name, details=error.details())
        except Exception:  # noqa: BLE001 - reported to the test, which fails on it
            emit(case, error=traceback.format_exc())

    emit("done")


if __name__ == "__main__":
    main()
