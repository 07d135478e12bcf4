"""Machine, versions and load for benchmark reports: the header every script prints."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev}{' plus uncommitted changes' if dirty else ''}"


def versions(packages: Iterable[str]) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def load(values: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def header(packages: Iterable[str], extra: dict[str, str], notes: list[str]) -> dict[str, Any]:
    """Print and return date, machine, start load, versions, git revision, extras, notes."""
    info: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{cpu_model()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "load_average_start": os.getloadavg(),
        "versions": versions(packages),
        "git": git_revision(),
        **extra,
        "notes": notes,
    }
    print(f"date: {info['date']}")
    print(f"machine: {info['machine']}")
    print(f"load average at start (1/5/15 min): {load(info['load_average_start'])}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print(f"synthbio_ppl git: {info['git']}")
    for key, value in extra.items():
        print(f"{key}: {value}")
    for note in notes:
        print(f"note: {note}")
    return info


def peak_rss() -> int:
    """This process's peak resident set size in bytes: ``VmHWM`` of /proc/self/status on
    Linux (``ru_maxrss`` would also count the parent's memory at the moment it spawned
    this process, which the kernel keeps across ``exec``), else ``ru_maxrss``."""
    import resource
    import sys

    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
