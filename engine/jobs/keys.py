"""Every Redis key of the project, in one place, like arq's `constants` module.

Two kinds of key live here. Raw keys (streams, leases, markers, arq's own) are full Redis keys and
all start with `PREFIX`. State keys are documents of the state store, which puts its own
`STATE_NAMESPACE` in front; person-scoped state keys start with the person's scope (a hash, never a
platform id), so erasure finds them with one prefix. Nothing outside this module builds a key.
"""

from __future__ import annotations

import time

from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix
from arq.constants import result_key_prefix as arq_result_prefix

PREFIX = "hs:"
STATE_NAMESPACE = PREFIX  # the state store's documents: "hs:" + a state key below
# The single queue of every tier before queues per tier: read only to move what still waits there.
LEGACY_QUEUE = "headshots:gpu"
WORKER_UNAVAILABLE = PREFIX + "worker:unavailable"  # why the last worker could not start
LIVE_STREAMS = PREFIX + "events:live"  # set of the job streams the notifier reads
WAKE_STREAM = PREFIX + "events:wake"  # tells a blocked notifier that a new job stream exists
NOTIFIER_GROUP = "notifier"  # the consumer group of notifiers serving every platform


# ----- raw keys of one job ----------------------------------------------------------------------


def stream_key(job_id: str) -> str:
    """Return the Redis stream holding the job's events."""
    return f"{PREFIX}events:job:{job_id}"


def latest_key(job_id: str) -> str:
    """Return the Redis key holding the job's latest event."""
    return f"{PREFIX}latest:{job_id}"


def lease_key(job_id: str) -> str:
    """Return the key a running job keeps alive while its worker lives."""
    return f"{PREFIX}lease:{job_id}"


def shown_key(job_id: str) -> str:
    """Return the key holding the progress text the notifier last showed for the job."""
    return f"{PREFIX}notify:shown:{job_id}"


def delivery_key(job_id: str, platform: str, chat_id: str, part: str) -> str:
    """Return the key marking one part of the job's delivery to one chat as sending or sent."""
    return f"{PREFIX}delivery:{job_id}:{platform}:{chat_id}:{part}"


def delivery_tries_key(job_id: str, platform: str, chat_id: str, part: str) -> str:
    """Return the key counting failed tries to send one part (it matches `delivery_pattern`)."""
    return f"{delivery_key(job_id, platform, chat_id, part)}:tries"


def delivery_pattern(job_id: str) -> str:
    """Return the SCAN pattern matching every delivery marker of the job."""
    return delivery_key(job_id, "*", "*", "*")


def arq_keys(job_id: str) -> tuple[str, str, str]:
    """Return arq's own keys of the job: its payload, its result and its in-progress marker."""
    return job_key_prefix + job_id, arq_result_prefix + job_id, in_progress_key_prefix + job_id


def arq_job_key(job_id: str) -> str:
    """Return arq's key holding the queued job's payload."""
    return job_key_prefix + job_id


def arq_in_progress_key(job_id: str) -> str:
    """Return arq's key that marks the job as being run by a worker."""
    return in_progress_key_prefix + job_id


def arq_retry_key(job_id: str) -> str:
    """Return arq's counter of the job's tries (a drained run gives its try back)."""
    return retry_key_prefix + job_id


def queue_name(tier: str) -> str:
    """Return arq's sorted set of a tier's queued job ids (the name arq shows in logs)."""
    return f"headshots:{tier}"


def workers_key(tier: str) -> str:
    """Return the sorted set of the live workers of a tier, scored by their last heartbeat."""
    return f"{PREFIX}workers:{tier}"


def eta_key(tier: str, stage: str) -> str:
    """Return the recent measured durations (seconds) of a tier's stage, or of one image."""
    return f"{PREFIX}eta:{tier}:{stage}"


def notifier_group(platforms: frozenset[str] | None) -> str:
    """Return the consumer group of a notifier serving `platforms` (None: every platform)."""
    if platforms is None:
        return NOTIFIER_GROUP
    return NOTIFIER_GROUP + ":" + "+".join(sorted(platforms))


# ----- state keys (under STATE_NAMESPACE) -------------------------------------------------------


RECORDS_PREFIX = "job:"  # every job record's state key starts with it


def record_key(job_id: str) -> str:
    """Return the state key of the job record (request, status, error)."""
    return RECORDS_PREFIX + job_id


def cancel_key(job_id: str) -> str:
    """Return the state key whose presence asks the job to stop."""
    return f"cancel:{job_id}"


def active_key(user_scope: str) -> str:
    """Return the state key naming the person's queued or running job."""
    return f"active:{user_scope}"


def person_prefix(user_scope: str) -> str:
    """Return the prefix of every state key under the person's own scope."""
    return f"{user_scope}:"


def person_jobs_key(user_scope: str) -> str:
    """Return the state key listing every job a person started (under their own scope)."""
    return person_prefix(user_scope) + "jobs"


def session_key(user_scope: str) -> str:
    """Return the state key of the person's conversation."""
    return person_prefix(user_scope) + "session"


def utc_day(now_s: float | None = None) -> str:
    """Return the UTC day (YYYYMMDD) daily counts belong to."""
    return time.strftime("%Y%m%d", time.gmtime(now_s))


QUOTA_PREFIX = "quota:"  # daily pack counts; outside every person's scope, so /delete keeps them
QUOTA_SALT_PREFIX = "quota-salt:"


def quota_key(tag: str, day: str) -> str:
    """Return the state key counting one person's packs on `day`, by a keyed hash (`tag`).

    Not under the person's scope: erasure must not reset the limit, and the key must not name
    the person. The hash's key is the day's salt, which expires with the day.
    """
    return f"{QUOTA_PREFIX}{day}:{tag}"


def quota_salt_key(day: str) -> str:
    """Return the state key of the random salt of `day`'s quota hashes."""
    return QUOTA_SALT_PREFIX + day


def menus_prefix(user_scope: str) -> str:
    """Return the prefix of the ids of the progress and menu messages shown to the person."""
    return person_prefix(user_scope) + "msg:"


def message_key(user_scope: str, name: str) -> str:
    """Return the state key of one shown message's id (a progress message names its job)."""
    return menus_prefix(user_scope) + name


def sheet_message(job_id: str, album: int) -> str:
    """Return the message name of one delivered album's controls (for `message_key`)."""
    return f"{job_id}:sheet:{album}"


def kept_key(user_scope: str) -> str:
    """Return the state key of the images the person kept ("job_id:number" entries)."""
    return person_prefix(user_scope) + "kept"


def numbering_key(user_scope: str) -> str:
    """Return the state key of the next contact-sheet number of each of the person's packs."""
    return person_prefix(user_scope) + "numbering"


# ----- blob keys --------------------------------------------------------------------------------


def person_blobs_prefix(user_scope: str) -> str:
    """Return the prefix of every blob of the person (selfies, identities, results)."""
    return f"{user_scope}/"


def selfies_prefix(user_scope: str) -> str:
    """Return the blob prefix of the person's stored selfies."""
    return f"{person_blobs_prefix(user_scope)}selfies/"


def selfie_key(user_scope: str, name: str) -> str:
    """Return the blob key of one stored selfie."""
    return selfies_prefix(user_scope) + name


# A job's blobs under its prefix, each stage's manifest written last (its presence means complete).
CROPS_MANIFEST = "crops.json"  # the training crops
CANDIDATES_MANIFEST = "candidates.json"  # every rendered image, before selection
RESULTS_MANIFEST = "selected.json"  # the delivered images; kept with them past the private files
RESULTS_FOLDER = "results"  # the delivered images themselves


def job_prefix(user_scope: str, job_id: str) -> str:
    """Return the blob prefix of everything a job stores."""
    return f"{person_blobs_prefix(user_scope)}jobs/{job_id}/"


def thumb_key(user_scope: str, job_id: str, number: int) -> str:
    """Return the blob key of the gallery's thumbnail of image `number` (erased with the job)."""
    return f"{job_prefix(user_scope, job_id)}thumbs/{number}.jpg"


def split_person_key(key: str) -> tuple[str, str]:
    """Return (scope, kind) of a person-scoped state key, e.g. ("telegram-ab12", "session")."""
    scope, _, kind = key.partition(":")
    return scope, kind


def quota_day(key: str) -> str | None:
    """Return the day (YYYYMMDD) of a quota count or salt key, or None for any other key."""
    for prefix in (QUOTA_PREFIX, QUOTA_SALT_PREFIX):
        if key.startswith(prefix):
            return key.removeprefix(prefix).partition(":")[0]
    return None


SESSION_KIND = "session"


# ----- raw keys a bot replica shares with the others (nothing of a person stays in a replica) ----


ALBUMS_DUE = PREFIX + "albums:due"  # sorted set: album id -> when it is quiet (ms, Redis clock)


def album_id(user_scope: str, group_id: str) -> str:
    """Return the id of one album being collected: the person's scope and the platform's group."""
    return f"{user_scope}:{group_id}"


def album_key(album: str) -> str:
    """Return the Redis list holding the photos of an album being collected (see `album_id`)."""
    return f"{PREFIX}album:{album}"


def person_lock_key(user_scope: str) -> str:
    """Return the key held while one replica handles an event of the person."""
    return f"{PREFIX}lock:person:{user_scope}"


def chat_pace_key(platform: str, chat_id: str) -> str:
    """Return the key of a chat's token bucket, shared by every replica sending to it."""
    return f"{PREFIX}pace:{platform}:{chat_id}"
