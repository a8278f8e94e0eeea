"""Child processes that end with their parent, even when the parent is killed (Linux only)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def end_with_parent(parent: int | None = None) -> None:
    """In a child: ask Linux for SIGTERM when the parent ends; does nothing on other systems.

    `parent` is the pid the child was started by, when known: a parent that died before this
    call is then noticed too (the child has been handed to another process by then).

    A `headshots run` killed with SIGKILL cannot stop its children itself, and an orphaned
    redis-server or worker would keep the port, the GPU and the queue. Linux ties the signal
    to the thread that started the child, so start children from a thread that lives as long
    as they should.
    """
    if sys.platform != "linux":
        return
    parent = os.getppid() if parent is None else parent
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took hold
        os.kill(os.getpid(), signal.SIGTERM)
