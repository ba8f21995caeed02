"""`rotate`: replace a base profile's access key with a new one, using the MFA session.

IAM lets an MFA session manage its user's keys; the long-term key alone may not (the policy
denies it). The steps, each safe to interrupt, leave a working key stored whatever happens:

1. CreateAccessKey. Cut short here: the old key is still stored and active.
2. Log out the profile's cached sessions, which the old key signed; store the new key where the
   old one was (keyring or credentials file), read back; log out again (a plugin run may have
   cached meanwhile). Cut short: the new key is stored and works as soon as IAM has
   propagated it.
3. Prove the new key: STS GetCallerIdentity signed with it, retried while IAM propagates it
   (within a bound). If it never works, the old key is stored again and the new one deleted.
4. DeleteAccessKey of the old key, last: the MFA session it signed may end with it.
"""

from __future__ import annotations

import calendar
import re
import shlex
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from ..config.aws_files import all_profiles, read_profile
from ..config.settings import Settings
from ..errors import AccessKeyLimitError, BaseCredentialsError, InvalidKeyError, MfaProcessError, RotationError
from ..keystore.access_key import KEY_ID_SHAPE, AccessKey, parse_access_key
from ..keystore.credentials_file import CredentialsFileStore
from ..keystore.key_facts import ADDED_OPTION, CREATED_OPTION, parse_time, record_facts
from ..keystore.keyring_store import KeyringStore
from ..redact import printable
from .chain import build_provider, session_cache
from .credentials import Credentials
from .session_key import SessionKey

PROPAGATION_TIMEOUT = 60.0  # IAM: a new key usually signs within seconds, "eventually" at worst
_RETRY_SECONDS = (0.5, 1.0, 2.0, 3.0)  # then 3 s each, until the bound
# An IAM user's ARN, its name as IAM allows it (path included): the name goes into messages.
_USER_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:user/(?:[\x21-\x7e]{0,510}/)?[\w+=,.@-]{1,64}")
_KEY_ID = re.compile(KEY_ID_SHAPE)

Store = Union[KeyringStore, CredentialsFileStore]


class Rotated:
    """What rotate did, for the command to report."""

    def __init__(self, old: str, new: str, store: str, logged_out: List[str]) -> None:
        self.old_key_id = old
        self.new_key_id = new
        self.store = store
        self.logged_out = logged_out


def key_store_of(settings: Settings, environ: Mapping[str, str]) -> Store:
    """Where the profile's key lives, for rotate to put the new one in the same place."""
    if settings.key_store:
        return KeyringStore(settings.profile, environ, settings.prompt_timeout)
    store = CredentialsFileStore(settings.profile, environ)
    if store.load() is None:
        raise BaseCredentialsError(
            f"profile '{settings.profile}' keeps no key in {store.path} or the keyring; rotate renews a key stored "
            f"in one of those (see `mfa-process add --profile {settings.profile}`)"
        )
    return store


class KeyRotation:
    """One rotation of ``settings.profile``'s key; ``report`` hears each step as it completes."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str],
        report: Callable[[str], None],
        warn: Callable[[str], None],
        propagation_timeout: float = PROPAGATION_TIMEOUT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.environ = environ
        self.report = report
        self.warn = warn
        self.propagation_timeout = propagation_timeout
        self.clock = clock
        self.sleep = sleep

    def run(self) -> Rotated:
        """The rotation, under a lock of its own: two rotates of one profile at once would each
        take the other's new key for a stranger."""
        from contextlib import ExitStack

        from ..errors import UnsafeCacheError
        from ..watchdog import Watchdog
        from .lock import session_lock

        cache = session_cache(self.environ)
        name = SessionKey(self.settings.profile, "rotate", self.settings.device.serial, 0)
        with ExitStack() as held:
            try:
                cache.ensure_directory()
                waiting = Watchdog(self.settings.lock_timeout, lambda: True, "wait for the other rotate to end")
                held.enter_context(session_lock(cache.lock_path_for(name), waiting, "rotating the access key"))
            except (UnsafeCacheError, OSError) as error:  # no trusted folder for the lock: rotate all the same
                self.warn(f"rotating without a lock ({error})")
            return self._rotate()

    def _rotate(self) -> Rotated:
        settings = self.settings
        store = key_store_of(settings, self.environ)
        old = store.load()
        if old is None:
            raise BaseCredentialsError(f"{store.describe()} holds no key for profile '{settings.profile}'")
        session = build_provider(settings, self.environ, self.warn).retrieve()
        iam = self._client("iam", session)
        arn = self._identity(self._client("sts", session), old)
        user = arn.rsplit("/", 1)[-1]
        self.report(f"creating a new access key for IAM user {user}")  # a name _USER_ARN allows: printable
        new, created = self._create(iam, user, old)
        self.report(f"created key {new.access_key_id}; storing it in {store.describe()}")
        old_facts = self._facts()
        cache = session_cache(self.environ)
        logged_out = cache.remove_profile(settings.profile)  # before the store changes: none outlives its key
        self._store(store, new, old, old_facts, iam, user)
        self._record(new, created)
        logged_out += cache.remove_profile(settings.profile)  # and any a plugin run cached meanwhile
        self.report(f"waiting until AWS accepts key {new.access_key_id} (up to {self.propagation_timeout:g} s)")
        self._prove(new, arn, store, old, old_facts, iam, user)
        self.report(f"key {new.access_key_id} works; deleting the old key {old.access_key_id} at AWS")
        self._delete(iam, user, old.access_key_id, new)
        self._warn_of_copies(old)
        return Rotated(old.access_key_id, new.access_key_id, store.describe(), logged_out)

    # --- the steps --------------------------------------------------------------------------------

    def _identity(self, client: Any, old: AccessKey) -> str:
        """Who the MFA session is: the IAM user ARN the new key must belong to as well."""
        try:
            arn = client.get_caller_identity().get("Arn", "")
        except Exception as error:
            raise self._failed("STS GetCallerIdentity", error, f"nothing changed: key {old.access_key_id} is stored")
        if not isinstance(arn, str) or not _USER_ARN.fullmatch(arn):
            raise RotationError(
                f"the MFA session of profile '{self.settings.profile}' is not an IAM user's (STS names it "
                f"{printable(str(arn)[:200])}); rotate renews an IAM user's access key. Nothing changed"
            )
        return arn

    def _create(self, iam: Any, user: str, old: AccessKey) -> "tuple[AccessKey, float]":
        try:
            answer = iam.create_access_key(**_user_arg(user))["AccessKey"]
        except Exception as error:
            if _code(error) == "LimitExceeded":
                raise AccessKeyLimitError(self._limit_message(iam, user, old)) from None
            raise self._failed(
                "IAM CreateAccessKey", error, f"nothing changed: key {old.access_key_id} is still stored"
            )
        fields: Dict[str, Any] = answer if isinstance(answer, dict) else {}
        key_id = fields.get("AccessKeyId")
        try:
            new = parse_access_key(key_id, fields.get("SecretAccessKey"), "IAM's CreateAccessKey answer")
        except InvalidKeyError as error:  # never stored: only deleted again, if it can be named
            if isinstance(key_id, str) and _KEY_ID.fullmatch(key_id):
                undone = self._undo_create(iam, user, AccessKey(key_id, ""))
            else:
                undone = "IAM named no usable key ID: list the user's keys with `aws iam list-access-keys`"
            raise RotationError(
                f"{error}; it was not stored; {undone}; key {old.access_key_id} is still stored"
            ) from None
        created: Any = fields.get("CreateDate")  # a datetime, as botocore parses it
        if not hasattr(created, "utctimetuple"):
            return new, self.clock()
        return new, float(calendar.timegm(created.utctimetuple()))

    def _store(
        self, store: Store, new: AccessKey, old: AccessKey, old_facts: Dict[str, str], iam: Any, user: str
    ) -> None:
        """The new key where the old one was. On failure the store is read: still the old key,
        nothing changed; the new key, or unreadable (a failed read-back can follow a write), the
        old key is put back; a third key (another program, another rotate), it is left alone.
        Then the new key is deleted at AWS."""
        try:
            store.save(new, replacing=old)
        except MfaProcessError as error:
            try:
                holding: Optional[AccessKey] = store.load()
            except MfaProcessError:
                holding = None
            if holding == old:
                state = f"key {old.access_key_id} is still stored"
            elif holding is not None and holding != new:
                state = (
                    f"{store.describe()} holds key {holding.access_key_id}, which another program stored meanwhile: "
                    "it is left as it is"
                )
            else:
                failure = self._put_back(store, old, old_facts)
                if failure is not None:
                    raise RotationError(
                        f"could not store the new key ({error}), nor put key {old.access_key_id} back ({failure}); "
                        f"key {new.access_key_id} exists at AWS and may be stored: check {store.describe()}"
                    ) from None
                state = f"key {old.access_key_id} is stored again"
            raise RotationError(
                f"could not store the new key ({error}); {self._undo_create(iam, user, new)}; {state}"
            ) from None

    def _prove(
        self, new: AccessKey, arn: str, store: Store, old: AccessKey, old_facts: Dict[str, str], iam: Any, user: str
    ) -> None:
        """GetCallerIdentity signed with the new key, until IAM has propagated it: it must be
        the same IAM user's key, or the old one is put back and kept."""
        client = self._client("sts", None, new)
        deadline = time.monotonic() + self.propagation_timeout
        attempt = 0
        while True:
            try:
                signed_by = client.get_caller_identity().get("Arn")
                if signed_by == arn:
                    return
                problem = f"it signs as {printable(str(signed_by)[:200])}, not as {arn}"
                break
            except Exception as error:  # not propagated yet, or the network: tried again until the bound
                if time.monotonic() >= deadline:
                    problem = f"{_said(error)}, for {self.propagation_timeout:g} s"
                    break
            self.sleep(_RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)])
            attempt += 1
        failure = self._put_back(store, old, old_facts)
        if failure is not None:
            raise RotationError(
                f"new key {new.access_key_id} did not work ({problem}), and key {old.access_key_id} could not be "
                f"stored again ({failure}); key {new.access_key_id} stays stored and both exist at AWS"
            )
        undone = self._undo_create(iam, user, new)
        raise RotationError(
            f"new key {new.access_key_id} did not work ({problem}); key {old.access_key_id} is stored again "
            f"and still active; {undone}"
        )

    def _delete(self, iam: Any, user: str, old_key_id: str, new: AccessKey) -> None:
        try:
            iam.delete_access_key(AccessKeyId=old_key_id, **_user_arg(user))
        except Exception as error:
            raise RotationError(
                f"new key {new.access_key_id} is stored and works, but the old key {old_key_id} could not be deleted "
                f"at AWS ({_said(error)}); delete it: {self._delete_command(user, old_key_id)}"
            ) from None

    # --- helpers --------------------------------------------------------------------------------

    def _warn_of_copies(self, old: AccessKey) -> None:
        """Other profiles that still name the deleted key: they no longer work."""
        try:
            profiles = all_profiles(self.environ)
        except MfaProcessError:
            return
        holding = [
            name
            for name, parts in profiles.items()
            if name != self.settings.profile
            and any(part.get("aws_access_key_id") == old.access_key_id for part in parts)
        ]
        if holding:
            self.warn(
                f"profile(s) {', '.join(printable(name) for name in holding)} still hold key {old.access_key_id}, "
                "now deleted at AWS: point them at this profile, or remove their keys"
            )

    def _put_back(self, store: Store, old: AccessKey, old_facts: Dict[str, str]) -> Optional[str]:
        """Store the old key again, with its facts; what went wrong, or None."""
        try:
            store.save(old)
        except MfaProcessError as error:
            return str(error)
        try:
            self._restore_facts(old, old_facts)
        except MfaProcessError as error:  # the key is what matters; its dates only inform status
            self.warn(f"could not restore the key's facts in the config file ({error})")
        return None

    def _undo_create(self, iam: Any, user: str, new: AccessKey) -> str:
        try:
            iam.delete_access_key(AccessKeyId=new.access_key_id, **_user_arg(user))
        except Exception as error:
            return (
                f"the new key {new.access_key_id} exists at AWS but is not used ({_said(error)}): delete it with "
                f"{self._delete_command(user, new.access_key_id)}"
            )
        return f"the new key {new.access_key_id} was deleted at AWS"

    def _limit_message(self, iam: Any, user: str, old: AccessKey) -> str:
        try:
            keys = iam.list_access_keys(**_user_arg(user)).get("AccessKeyMetadata", [])
        except Exception:
            keys = []
        others = [key["AccessKeyId"] for key in keys if key.get("AccessKeyId") != old.access_key_id]
        listed = f"{old.access_key_id} (stored here)" + "".join(f" and {other}" for other in others)
        if others:
            fix = f"if nothing else uses {others[0]}, delete it with {self._delete_command(user, others[0])}"
        else:
            fix = "delete the key that is not stored here"
        fix += ", then rotate again"
        return f"IAM user {user} already has two access keys, the most IAM allows: {listed}; {fix}"

    def _delete_command(self, user: str, key_id: str) -> str:
        words = ["mfa-process", "exec", "--profile", self.settings.profile, "--", "aws", "iam", "delete-access-key"]
        words += ["--user-name", user, "--access-key-id", key_id]
        return "`" + " ".join(shlex.quote(word) for word in words) + "`"

    def _failed(self, action: str, error: Exception, state: str) -> RotationError:
        return RotationError(f"{action} failed ({_said(error)}); {state}")

    def _facts(self) -> Dict[str, str]:
        from_config, _ = read_profile(self.settings.profile, self.environ)
        return {key: from_config[key] for key in (CREATED_OPTION, ADDED_OPTION) if key in from_config}

    def _record(self, new: AccessKey, created: float) -> None:
        keyring_key_id = new.access_key_id if self.settings.key_store else None
        try:
            record_facts(self.settings.profile, self.environ, keyring_key_id, created=created, by="rotate")
        except MfaProcessError as error:  # the key is stored; the config only names it
            self.warn(
                f"could not record key {new.access_key_id} in the config file ({error}); its mfa_key_id and "
                "mfa_key_created still name the old key"
            )

    def _restore_facts(self, old: AccessKey, facts: Dict[str, str]) -> None:
        created = parse_time(facts.get(CREATED_OPTION, ""))
        added = parse_time(facts.get(ADDED_OPTION, ""))
        keyring_key_id = old.access_key_id if self.settings.key_store else None
        record_facts(self.settings.profile, self.environ, keyring_key_id, created, added, by="rotate")

    def _client(self, service: str, session: Optional[Credentials], key: Optional[AccessKey] = None) -> Any:
        import boto3
        from botocore.config import Config

        if key is not None:
            secrets = {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}
        else:
            assert session is not None
            secrets = {
                "aws_access_key_id": session.access_key_id,
                "aws_secret_access_key": session.secret_access_key,
                "aws_session_token": session.session_token,
            }
        boto = boto3.Session(profile_name=self.settings.profile, **secrets)
        region = boto.region_name or self.settings.device.default_region
        config = Config(connect_timeout=10, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})
        return boto.client(service, region_name=region, config=config)


def _user_arg(user: str) -> Dict[str, str]:
    return {"UserName": user}


def _code(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))


def _said(error: Exception) -> str:
    """What AWS said (code and message), or the error's type: never a request or its keys."""
    details = getattr(error, "response", {}).get("Error", {})
    if details.get("Code"):
        return f"{details['Code']}: {details.get('Message', '')}".rstrip(": ")
    if type(error).__module__.startswith("botocore"):  # a connection error names the endpoint
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
