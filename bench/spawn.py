"""Time a command N times and read each run's peak memory, from a small process.

bench/run.py starts this file as ``python bench/spawn.py`` with a JSON job on stdin:
``{"argvs": [[...], ...], "runs": 5, "warmup": 1, "remove": [...], "setup": [[...], ...],
"env": {...}}``. Each round runs every command of ``argvs`` once, in turn, so that
commands compared with each other (``mfgctl stock`` against a bare ``python -c pass``)
see the same machine load. Before every run, untimed, the files in ``remove`` are
deleted and the ``setup`` commands run (a fresh database for an import, say). It prints
one JSON line: ``{"times": [[...], ...], "rss_kb": [[...], ...], "cpu": [[...], ...],
"floor_kb": N}`` (one list per command; ``cpu``: each run's user + system seconds) or
``{"error": "..."}``.

Why a separate process: Linux carries a process's peak RSS across ``exec``, and a child
forked (or vforked) from a big parent starts with the parent's peak. The benchmark
runner holds a whole synthetic plant in memory, so children it started itself would
all report hundreds of MB. This helper imports almost nothing, so a command's peak is
its own, or at least this helper's (``floor_kb``, about 10 MB), whichever is larger.
"""

import json
import os
import sys
import time


def _spawn(argv, env, err_fd):
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_DUP2, err_fd, 2),
    ]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        os.lseek(err_fd, 0, os.SEEK_SET)
        message = os.read(err_fd, 1 << 16).decode(errors="replace").strip()
        raise RuntimeError(f"{' '.join(argv)} exited {code}: {message[-2000:]}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def _high_water_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    job = json.loads(sys.stdin.read())
    env = job.get("env") or dict(os.environ)
    argvs = job["argvs"]
    result = {
        "times": [[] for _ in argvs],
        "rss_kb": [[] for _ in argvs],
        "cpu": [[] for _ in argvs],
    }
    err_path = f"/tmp/mfgctl-bench-{os.getpid()}.err"
    err_fd = os.open(err_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.unlink(err_path)
    try:
        for n in range(job.get("warmup", 1) + job["runs"]):
            for i, argv in enumerate(argvs):
                for path in job.get("remove", []):
                    if os.path.exists(path):
                        os.unlink(path)
                for setup in job.get("setup", []):
                    _spawn(setup, env, err_fd)
                os.ftruncate(err_fd, 0)
                os.lseek(err_fd, 0, os.SEEK_SET)
                elapsed, rss, cpu = _spawn(argv, env, err_fd)
                if n >= job.get("warmup", 1):
                    result["times"][i].append(elapsed)
                    result["rss_kb"][i].append(rss)
                    result["cpu"][i].append(cpu)
    except (OSError, RuntimeError) as e:
        result = {"error": str(e)}
    result["floor_kb"] = _high_water_kb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
