"""What the AWS config file records about a base profile's key, all of it non-secret: which
store holds it and how old it is. Other tools ignore these keys (botocore, the AWS CLI and the
JS SDK read unknown keys without a word); `status` reads them for the rotation reminder.

    mfa_key_store = keyring                 the keys are in the OS keyring (absent: the files)
    mfa_key_id = AKIA...                    which key the keyring holds: its sessions' cache name
    mfa_key_created = 2026-12-02T06:10:15Z  when AWS created the key (known from `rotate`)
    mfa_key_added = 2026-12-02T06:10:15Z    when `add` stored it: the key is at least this old
"""

from __future__ import annotations

import calendar
import time
from typing import Dict, Mapping, Optional

from ..config.aws_files import config_file_path
from ..config.profile_edit import edit_profile
from ..config.settings import KEY_ID_OPTION, KEY_STORE_OPTION, KEYRING_STORE

CREATED_OPTION = "mfa_key_created"
ADDED_OPTION = "mfa_key_added"
FACT_OPTIONS = (KEY_STORE_OPTION, KEY_ID_OPTION, CREATED_OPTION, ADDED_OPTION)
ROTATE_AFTER_DAYS = 90  # the rotation reminder, as AWS Security Hub's IAM.3 control
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class KeyAge:
    """How old a key is: exactly (``created``), or at least (``added``)."""

    __slots__ = ("since", "exact")

    def __init__(self, since: float, exact: bool) -> None:
        self.since = since
        self.exact = exact

    def days(self, now: float) -> int:
        return max(0, int((now - self.since) // 86400))

    def due(self, now: float) -> bool:
        return self.days(now) >= ROTATE_AFTER_DAYS

    def shown(self, now: float) -> str:
        """``123d``, or ``>=12d`` when only the day it was added is known."""
        return f"{'' if self.exact else '>='}{self.days(now)}d"


def key_age(profile: Mapping[str, str]) -> Optional[KeyAge]:
    created = parse_time(profile.get(CREATED_OPTION, ""))
    if created is not None:
        return KeyAge(created, exact=True)
    added = parse_time(profile.get(ADDED_OPTION, ""))
    return KeyAge(added, exact=False) if added is not None else None


def in_keyring(profile: Mapping[str, str]) -> bool:
    return profile.get(KEY_STORE_OPTION, "").strip() == KEYRING_STORE


def record_facts(
    profile: str,
    environ: Mapping[str, str],
    keyring_key_id: Optional[str],
    created: Optional[float] = None,
    added: Optional[float] = None,
    by: str = "mfa-process",
) -> None:
    """Write the facts of a key just stored (``keyring_key_id``: the ID of the key the keyring
    now holds; None for a key in the credentials file); older facts of a previous key go."""
    set_keys: Dict[str, str] = {}
    if keyring_key_id is not None:
        set_keys[KEY_STORE_OPTION] = KEYRING_STORE
        set_keys[KEY_ID_OPTION] = keyring_key_id
    if created is not None:
        set_keys[CREATED_OPTION] = format_time(created)
    elif added is not None:
        set_keys[ADDED_OPTION] = format_time(added)
    remove = [option for option in FACT_OPTIONS if option not in set_keys]
    edit_profile(config_file_path(environ), profile, True, set_keys, remove, by=by)


def forget_facts(profile: str, environ: Mapping[str, str], by: str = "mfa-process") -> bool:
    return edit_profile(config_file_path(environ), profile, True, {}, FACT_OPTIONS, by=by)


def format_time(epoch: float) -> str:
    return time.strftime(_FORMAT, time.gmtime(epoch))


def parse_time(text: str) -> Optional[float]:
    try:
        return float(calendar.timegm(time.strptime(text.strip(), _FORMAT)))
    except ValueError:
        return None
