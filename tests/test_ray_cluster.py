"""`main.py sweep --address`: joining a cluster started the stock way (`ray start --head`,
which turns on token authentication in Ray 2.60), and one line within seconds where nothing
answers. The cluster is real: its own port and temp dir, stopped by killing its processes (never
`ray stop`, which would stop every Ray on the machine)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from main import main
from tests.conftest import ROOT

RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                out[int(entry.name)] = (ppid, (entry / "cmdline").read_bytes())
            except (OSError, IndexError, ValueError):
                continue
    return out


def kill_cluster(temp_dir: Path, port: int) -> None:
    """SIGKILL the cluster: every process naming its temp dir or its port, and their children
    (Ray's agents rename themselves, so they are found as the raylet's children)."""
    procs = _processes()
    marks = (str(temp_dir).encode(), f":{port} ".encode(), f":{port}\0".encode())
    doomed = {pid for pid, (_, cmd) in procs.items() if any(m in cmd for m in marks)}
    while True:
        more = {pid for pid, (ppid, _) in procs.items() if ppid in doomed} - doomed
        if not more:
            break
        doomed |= more
    for pid in doomed - {os.getpid()}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster():
    """A Ray head node started as a user starts one: `ray start --head --port P`."""
    port = free_port()
    temp_dir = Path("/tmp") / f"ray_{port}"  # short: Ray's socket paths must fit in 107 bytes
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    done = subprocess.run([str(RAY), "start", "--head", "--port", str(port),
                           "--node-ip-address", "127.0.0.1", "--num-cpus", "2",
                           "--include-dashboard", "false", "--temp-dir", str(temp_dir),
                           "--disable-usage-stats"], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    try:
        yield f"127.0.0.1:{port}"
    finally:
        kill_cluster(temp_dir, port)


@pytest.mark.slow
def test_a_sweep_joins_a_stock_cluster(cluster: str, tmp_path: Path, capsys,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("RAY_AUTH")]:
        monkeypatch.delenv(key)
    out = tmp_path / "study"
    assert main(["sweep", "--task", "SimpleDoorKey", "--algos", "ppo", "--seeds", "0", "1",
                 "--budget", "600", "--eval_every", "600", "--num_eval", "4",
                 "--teacher_episodes", "4", "--out", str(out), "--address", cluster, "--",
                 "--num_envs", "4", "--traj_per_itr", "2", "--batch_size", "32"]) == 0
    printed = capsys.readouterr().out
    assert "Ray: token authentication" in printed
    for seed in (0, 1):
        run = out / "log" / "ppo" / "simpledoorkey" / f"ppo_seed{seed}"
        assert (run / "finished.json").exists()
    assert (out / "results.md").exists() and (out / "command.txt").read_text().count(
        "--address") == 1


def test_nothing_at_the_address_is_one_line_within_seconds(tmp_path: Path, capsys) -> None:
    port = free_port()  # nothing listens there
    out = tmp_path / "study"
    t0 = time.monotonic()
    code = main(["sweep", "--task", "SimpleDoorKey", "--algos", "ppo", "--seeds", "0",
                 "--budget", "600", "--out", str(out), "--address", f"127.0.0.1:{port}"])
    assert code == 2 and time.monotonic() - t0 < 30
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"--address 127.0.0.1:{port}: no Ray cluster answers there" in err
    assert not (out / "command.txt").exists()


def sweep_process(address: str, out: Path, **env: str) -> subprocess.Popen:
    """`main.py sweep --address` as a user runs it from a terminal: its own process (Ray's
    client state, the token it read, stays there), output captured, Ctrl-C's default action
    (a suite started in the background, as `cmd &`, has SIGINT ignored, and children inherit
    that)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")} | env
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "sweep", "--task",
                             "SimpleDoorKey", "--algos", "ppo", "--seeds", "0", "--budget", "600",
                             "--out", str(out), "--address", address], cwd=ROOT, env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.slow
def test_a_refused_token_is_one_line_saying_so(cluster: str, tmp_path: Path) -> None:
    t0 = time.monotonic()
    proc = sweep_process(cluster, tmp_path / "study", RAY_AUTH_TOKEN="0123456789abcdef" * 2)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and time.monotonic() - t0 < 30, out + err
    assert err.strip().count("\n") == 0, err  # nothing of Ray's retry warnings
    assert f"--address {cluster}: a Ray cluster answers there but refused our authentication" \
        in err and "RAY_AUTH_TOKEN" in err
    assert not (tmp_path / "study").exists()


@pytest.fixture
def not_ray():
    """A TCP server that accepts connections and never answers: something listens, no Ray."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = [False]

    def serve() -> None:
        server.settimeout(0.5)
        while not stop[0]:
            with contextlib.suppress(OSError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop[0] = True
    thread.join()
    for conn in [*accepted, server]:
        conn.close()


@pytest.mark.slow
def test_no_ray_behind_a_listening_port_is_one_line_within_30_s(not_ray: str,
                                                                 tmp_path: Path) -> None:
    t0 = time.monotonic()
    proc = sweep_process(not_ray, tmp_path / "study")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and time.monotonic() - t0 < 30, out + err
    assert err.strip().count("\n") == 0, err
    assert f"--address {not_ray}: something listens there but no Ray cluster answered" in err


@pytest.mark.slow
def test_ctrl_c_while_joining_stops_the_sweep_at_once(not_ray: str, tmp_path: Path) -> None:
    proc = sweep_process(not_ray, tmp_path / "study")
    # Ctrl-C once the sweep is joining: its probe child is up (importing Ray first can take
    # seconds on a loaded machine) and Ray's client is retrying (it ignores Ctrl-C for up to a
    # minute)
    deadline = time.monotonic() + 60
    while not [pid for pid, (ppid, cmd) in _processes().items()
               if ppid == proc.pid and b"sweep.cluster" in cmd]:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(3)
    assert proc.poll() is None
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 5 and proc.returncode == 130, out + err
    assert err.strip() == f"sweep interrupted while joining {not_ray}: nothing was started"
    assert not (tmp_path / "study").exists()
    assert not [cmd for _, cmd in _processes().values() if b"sweep.cluster" in cmd]


def test_the_ray_command_is_the_installed_one() -> None:
    assert RAY.exists(), f"ray's CLI is not beside {sys.executable}"
    assert ROOT.exists()
