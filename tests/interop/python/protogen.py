"""Generates the grpcio code for the gatekeeper protos into a scratch folder and makes it importable.

Uses Debian's protoc (3.21, knows proto3 `optional`) and grpc_python_plugin, never a protoc bundled
with a Python package. The health proto is compiled under a `gk_health` folder: compiled from its own
path it would land in a `grpc/health/v1` package that shadows the real `grpc` module.
"""

import os
import shutil
import subprocess
import sys

PROTOC = "/usr/bin/protoc"
PLUGIN = "/usr/bin/grpc_python_plugin"


def generate(protos_dir, out_dir):
    """Compiles the protos into out_dir and puts out_dir first on sys.path."""
    for tool in (PROTOC, PLUGIN):
        if not os.path.exists(tool):
            raise SystemExit(
                f"missing {tool}: apt-get install protobuf-compiler protobuf-compiler-grpc"
            )

    src = os.path.join(out_dir, "src")
    gen = os.path.join(out_dir, "gen")
    os.makedirs(os.path.join(src, "gk_health"), exist_ok=True)
    os.makedirs(gen, exist_ok=True)
    shutil.copyfile(
        os.path.join(protos_dir, "grpc", "health", "v1", "health.proto"),
        os.path.join(src, "gk_health", "health.proto"),
    )
    common = [f"--python_out={gen}", f"--grpc_out={gen}", f"--plugin=protoc-gen-grpc={PLUGIN}"]
    subprocess.run(
        [PROTOC, f"-I{protos_dir}", *common, "gatekeeper/v1/gatekeeper.proto"],
        check=True,
    )
    subprocess.run([PROTOC, f"-I{src}", *common, "gk_health/health.proto"], check=True)
    sys.path.insert(0, gen)
