"""The job protocol shared by the bot and the GPU worker; imports no heavy library.

`contract` (request, status, record), `events` (progress events), `keys` (every Redis key),
`queue` (enqueue, cancel, what the queue holds), `stream` (publisher and consumer-group reader),
`records` (the stored job records), `quality` (a pack's quality figures), `eta` (estimates from
measured stage durations), and `retention` (deleting what a person no longer needs).

Each name is imported from its module on first use, so importing one light piece (the
contract, the events) does not pull in arq, redis or the settings: the GPU bench host has none.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.jobs.contract import (
        PACK_JOB,
        SUBJECTS,
        TERMINAL_STATUSES,
        Enqueued,
        FailureCode,
        JobRecord,
        JobStatus,
        PackAlreadyActiveError,
        PackRequest,
        Tier,
    )
    from engine.jobs.events import (
        Cancelled,
        Delivering,
        Done,
        Failed,
        Generating,
        JobEvent,
        Preparing,
        ProgressEvent,
        Queued,
        Selecting,
        StyleResult,
        TerminalEvent,
        Training,
        event_from_json,
        event_to_json,
        is_terminal,
    )
    from engine.jobs.queue import (
        active_job,
        cancel_pack,
        create_arq_pool,
        enqueue_pack,
        queue_length,
        queue_position,
    )
    from engine.jobs.records import (
        finish_record,
        forget_job,
        load_record,
    )
    from engine.jobs.stream import (
        latest_event,
        publish_event,
    )
    from engine.jobs.workers import worker_alive

_HOMES = {
    "PACK_JOB": "contract",
    "SUBJECTS": "contract",
    "TERMINAL_STATUSES": "contract",
    "Enqueued": "contract",
    "FailureCode": "contract",
    "JobRecord": "contract",
    "JobStatus": "contract",
    "PackAlreadyActiveError": "contract",
    "PackRequest": "contract",
    "Tier": "contract",
    "Cancelled": "events",
    "Delivering": "events",
    "Done": "events",
    "Failed": "events",
    "Generating": "events",
    "JobEvent": "events",
    "Preparing": "events",
    "ProgressEvent": "events",
    "Queued": "events",
    "Selecting": "events",
    "StyleResult": "events",
    "TerminalEvent": "events",
    "Training": "events",
    "event_from_json": "events",
    "event_to_json": "events",
    "is_terminal": "events",
    "active_job": "queue",
    "cancel_pack": "queue",
    "create_arq_pool": "queue",
    "enqueue_pack": "queue",
    "queue_length": "queue",
    "queue_position": "queue",
    "worker_alive": "workers",
    "finish_record": "records",
    "forget_job": "records",
    "load_record": "records",
    "latest_event": "stream",
    "publish_event": "stream",
}

__all__ = [
    "PACK_JOB",
    "SUBJECTS",
    "TERMINAL_STATUSES",
    "Cancelled",
    "Delivering",
    "Done",
    "Enqueued",
    "Failed",
    "FailureCode",
    "Generating",
    "JobEvent",
    "JobRecord",
    "JobStatus",
    "PackAlreadyActiveError",
    "PackRequest",
    "Preparing",
    "ProgressEvent",
    "Queued",
    "Selecting",
    "StyleResult",
    "TerminalEvent",
    "Tier",
    "Training",
    "active_job",
    "cancel_pack",
    "create_arq_pool",
    "enqueue_pack",
    "event_from_json",
    "event_to_json",
    "finish_record",
    "forget_job",
    "is_terminal",
    "latest_event",
    "load_record",
    "publish_event",
    "queue_length",
    "queue_position",
    "worker_alive",
]


def __getattr__(name: str) -> object:
    """Import `name` from the module that defines it, once."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
