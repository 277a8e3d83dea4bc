"""``kioskctl sip2-gateway``: registered by ``add_parser``, runs the gateway in the foreground."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from drivers.sip2.cli import add_parser, host_port
from drivers.sip2.store import create_device_secret


def kioskctl() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kioskctl")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_sip2_gateway_options():
    args = kioskctl().parse_args(
        ["sip2-gateway", "--listen", "0.0.0.0:6001", "--upstream", "ils.example:6002", "--tls"]
    )
    assert args.listen == ("0.0.0.0", 6001) and args.upstream == ("ils.example", 6002)
    assert args.tls and not args.crlf and args.encoding == "utf-8"


@pytest.mark.parametrize("bad", ["6001", "host:", ":6001", "host:70000", "host:abc"])
def test_host_port_refuses_nonsense(bad):
    with pytest.raises(argparse.ArgumentTypeError):
        host_port(bad)


def test_a_missing_device_secret_is_a_configuration_problem(tmp_path, capsys):
    args = kioskctl().parse_args(
        [
            "sip2-gateway",
            "--listen", "127.0.0.1:0",
            "--upstream", "127.0.0.1:1",
            "--secret", str(tmp_path / "none"),
            "--store", str(tmp_path / "tokens.bin"),
        ]
    )  # fmt: skip
    assert args.func(args) == 2
    assert "device secret" in capsys.readouterr().err


def test_runs_in_the_foreground_until_interrupted(tmp_path):
    create_device_secret(tmp_path / "secret")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = textwrap.dedent(
        """
        import argparse, sys
        from drivers.sip2.cli import add_parser
        p = argparse.ArgumentParser(prog="kioskctl")
        add_parser(p.add_subparsers(dest="command", required=True))
        args = p.parse_args(sys.argv[1:])
        sys.exit(args.func(args))
        """
    )
    argv = [
        sys.executable, "-c", script, "sip2-gateway",
        "--listen", f"127.0.0.1:{port}", "--upstream", "127.0.0.1:1",
        "--secret", str(tmp_path / "secret"), "--store", str(tmp_path / "tokens.bin"),
        "--status-file", str(tmp_path / "status.json"),
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert "sip2 gateway on 127.0.0.1" in proc.stdout.readline()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert (tmp_path / "status.json").exists()
