"""Which local addresses a process listens on, read from /proc (Linux): for tests of what binds where."""
from __future__ import annotations

import os
from pathlib import Path


def listening_sockets() -> dict[int, str]:
    """Socket inode → local address ("0100007F:1F90": 127.0.0.1:8080 in /proc's hex) of every listening socket."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                found[int(fields[9])] = fields[1]
    return found


def listening_addresses(pid: int) -> set[str]:
    """The hex local addresses (without port) on which process ``pid`` listens."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return {address.split(":")[0] for inode, address in listening_sockets().items() if inode in inodes}


LOOPBACK_V4 = "0100007F"
LOOPBACK_V6 = "00000000000000000000000001000000"
