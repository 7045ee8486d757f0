"""Process-tree measurement for the benchmarks: peak RSS and CPU time, sampled with psutil.

Peak RSS of a tree is the largest, over the run, of the sum of the live processes' own peaks
(``VmHWM``): an upper bound of what the tree held at once that does not add up the peaks of
worker processes that replaced one another (pool recycling). CPU is user + system time of every
process seen, counted from the start of the measurement.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024


def _hwm(pid: int) -> int:
    """The process's own peak resident set size, in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class TreeUsage:
    peak_rss: int = 0  # bytes: max over time of the sum of live processes' VmHWM
    peak_rss_by_role: dict[str, int] = field(default_factory=dict)  # per root's tree
    cpu: float = 0.0  # seconds, user + system
    cpu_by_role: dict[str, float] = field(default_factory=dict)
    processes: int = 0
    hwm_by_pid: dict[int, tuple[str, int]] = field(default_factory=dict)  # role, VmHWM
    cpu_by_pid: dict[int, float] = field(default_factory=dict)  # as last sampled


class TreeMonitor:
    """Sample the process trees under some root pids every ``interval`` seconds."""

    def __init__(self, roots: dict[str, int], interval: float = 0.05) -> None:
        self.roots = roots
        self.interval = interval
        self.started = time.time()
        self._cpu_base: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}
        self._role: dict[int, str] = {}
        self._hwm: dict[int, int] = {}
        self.usage = TreeUsage()
        self._stop = threading.Event()
        self._sample()  # baselines of processes that already run
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> dict[int, tuple[str, psutil.Process]]:
        found: dict[int, tuple[str, psutil.Process]] = {}
        for role, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                found[pid] = (role, root)
                for child in root.children(recursive=True):
                    found[child.pid] = (role, child)
            except psutil.Error:
                continue
        return found

    def _sample(self) -> None:
        total = 0
        by_role: dict[str, int] = {}
        for pid, (role, proc) in self._tree().items():
            try:
                times = proc.cpu_times()
                cpu = times.user + times.system
                created = proc.create_time()
            except psutil.Error:
                continue
            if pid not in self._cpu_base:
                self._cpu_base[pid] = cpu if created < self.started else 0.0
                self._role[pid] = role
            self._cpu_last[pid] = cpu
            hwm = max(self._hwm.get(pid, 0), _hwm(pid))
            self._hwm[pid] = hwm
            total += hwm
            by_role[role] = by_role.get(role, 0) + hwm
        if total > self.usage.peak_rss:
            self.usage.peak_rss = total
        for role, value in by_role.items():
            self.usage.peak_rss_by_role[role] = max(
                value, self.usage.peak_rss_by_role.get(role, 0))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def stop(self) -> TreeUsage:
        self._sample()
        self._stop.set()
        self._thread.join()
        self._sample()
        cpu_by_role: dict[str, float] = {}
        for pid, last in self._cpu_last.items():
            role = self._role[pid]
            cpu_by_role[role] = cpu_by_role.get(role, 0.0) + last - self._cpu_base[pid]
        self.usage.cpu_by_role = cpu_by_role
        self.usage.cpu = sum(cpu_by_role.values())
        self.usage.processes = len(self._cpu_last)
        self.usage.cpu_by_pid = {pid: last - self._cpu_base[pid]
                                 for pid, last in self._cpu_last.items()}
        self.usage.hwm_by_pid = {pid: (self._role[pid], hwm) for pid, hwm in self._hwm.items()
                                 if pid in self._role}
        return self.usage
