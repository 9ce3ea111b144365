"""Joining a Ray cluster by `--address`: the token authentication that `ray start --head`
turns on (Ray 2.60), and one line within seconds when the cluster cannot be joined.

Ray's own `ray.init(address=...)` blocks in C++ for 20-60 s on an address it cannot join,
printing a warning a second, and Ctrl-C does not reach Python meanwhile. So the first contact
is made by a child process (`python -m sweep.cluster ADDRESS`) that the sweep watches: it reads
the child's log as it comes, stops it at the first sign of refusal, and can be interrupted at
any moment. Only an address that answered is then joined in this process.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from utils.errors import TrainingInterrupted, UserError

ROOT = Path(__file__).resolve().parents[1]
RAY_TOKEN_FILE = Path.home() / ".ray" / "auth_token"  # where `ray start` keeps its token
PROBE_SECONDS = 20.0  # the whole first contact, so that the answer comes within 30 s
REFUSED = "InvalidAuthToken"  # what Ray's client logs when the cluster refuses its token
NO_GCS = "Failed to connect to GCS"  # ... when something listens but no Ray answers


def _reachable(address: str) -> None:
    """UserError within seconds if nothing listens at HOST:PORT; "auto" and ray:// addresses
    are left to Ray."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise UserError(f"--address {address}: no Ray cluster answers there "
                        f"({exc.strerror or exc}); start one with `ray start --head --port "
                        f"{port}`, or drop --address for a local Ray") from None


def _use_token() -> bool:
    """Do what Ray does for a cluster it finds by itself ("auto"), which it skips for an
    explicit address: use the token at hand (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or
    ~/.ray/auth_token) unless RAY_AUTH_MODE says otherwise. True when a token will be sent."""
    import logging

    from ray._private.authentication import authentication_token_setup as setup

    # Ray warns "Token authentication is enabled" here; the sweep's own line says it instead
    logging.getLogger(setup.__name__).setLevel(logging.ERROR)
    return bool(setup.maybe_enable_token_auth_if_token_available(warn_if_disabled=False))


def _refused(address: str) -> UserError:
    auth = os.environ.get("RAY_AUTH_MODE", "token" if _token_at_hand() else "disabled")
    return UserError(
        f"--address {address}: a Ray cluster answers there but refused our authentication "
        f"(mode {auth!r}): give the cluster's token as RAY_AUTH_TOKEN (on the head node: "
        f"{RAY_TOKEN_FILE}), or start the cluster with RAY_AUTH_MODE=disabled")


def _token_at_hand() -> bool:
    return bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                or RAY_TOKEN_FILE.exists())


def _probe(address: str, seconds: float = PROBE_SECONDS) -> None:
    """Make the first contact in a child process; UserError naming why it failed
    (authentication, no Ray there, no answer in time), TrainingInterrupted on Ctrl-C."""
    child = subprocess.Popen([sys.executable, "-m", "sweep.cluster", address], cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in child.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline, log, ended = time.monotonic() + seconds, [], False
    try:
        while time.monotonic() < deadline and not ended:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                ended = True
                break
            log.append(line)
            if REFUSED in line:
                raise _refused(address)
    except KeyboardInterrupt:
        raise TrainingInterrupted(f"sweep interrupted while joining {address}: nothing was "
                                  "started", 128 + signal.SIGINT) from None
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    if not ended and any(NO_GCS in line for line in log):
        raise UserError(f"--address {address}: something listens there but no Ray cluster "
                        f"answered within {seconds:.0f} s (no GCS); give the head node's address "
                        "and port as `ray start --head` printed them")
    if not ended:
        raise UserError(f"--address {address}: no Ray cluster answered within {seconds:.0f} s; "
                        "check the address, or that the head node is up (`ray status` there)")
    if child.returncode != 0 or not any(line.startswith("joined") for line in log):
        last = next((s.strip() for s in reversed(log) if s.strip()), "no output")
        raise UserError(f"--address {address}: Ray could not join the cluster: {last[-300:]}")


def connect(ray, address: str | None, cpus: int | None) -> None:
    """Start a local Ray, or join the cluster at ``address`` (with its token, if any)."""
    if address is None:
        ray.init(num_cpus=cpus or os.cpu_count(), include_dashboard=False, log_to_driver=False)
        return
    _reachable(address)
    explicit = os.environ.get("RAY_AUTH_MODE")  # read first: Ray sets it when it takes a token
    if _use_token() and explicit is None:
        print("Ray: token authentication, with the token of RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH "
              f"or {RAY_TOKEN_FILE} (RAY_AUTH_MODE=disabled turns it off)", flush=True)
    _probe(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except ConnectionError:  # it answered the probe a moment ago; gone since
        raise UserError(f"--address {address}: the Ray cluster answered, then refused to "
                        "connect; try again, or check the head node (`ray status` there)") from None


if __name__ == "__main__":  # the probe's child: join, say so, leave
    import ray

    _use_token()
    ray.init(address=sys.argv[1], include_dashboard=False, log_to_driver=False)
    print(f"joined: {ray.cluster_resources().get('CPU', 0):g} CPUs", flush=True)
    ray.shutdown()
