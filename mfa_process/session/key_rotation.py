"""`rotate`: replace a base profile's access key with a new one, using the MFA session.

IAM lets an MFA session manage its user's keys; the long-term key alone may not (the policy
denies it). The steps, each safe to interrupt, leave a working key stored whatever happens:

1. CreateAccessKey. Cut short here: the old key is still stored and active.
2. Store the new key where the old one was (keyring or credentials file), read back; log out the
   profile's cached sessions, which the old key signed. Cut short: the new key is stored and
   works as soon as IAM has propagated it.
3. Prove the new key: STS GetCallerIdentity signed with it, retried while IAM propagates it
   (within a bound). If it never works, the old key is stored again and the new one deleted.
4. DeleteAccessKey of the old key, last: the MFA session it signed may end with it.
"""

from __future__ import annotations

import calendar
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from ..config.aws_files import read_profile
from ..config.settings import Settings
from ..errors import AccessKeyLimitError, BaseCredentialsError, MfaProcessError, RotationError
from ..keystore.access_key import AccessKey
from ..keystore.credentials_file import CredentialsFileStore
from ..keystore.key_facts import ADDED_OPTION, CREATED_OPTION, parse_time, record_facts
from ..keystore.keyring_store import KeyringStore
from .chain import build_provider, session_cache
from .credentials import Credentials

PROPAGATION_TIMEOUT = 60.0  # IAM: a new key usually signs within seconds, "eventually" at worst
_RETRY_SECONDS = (0.5, 1.0, 2.0, 3.0)  # then 3 s each, until the bound

Store = Union[KeyringStore, CredentialsFileStore]


class Rotated:
    def __init__(self, old: str, new: str, store: str, user: Optional[str], logged_out: List[str]) -> None:
        self.old_key_id = old
        self.new_key_id = new
        self.store = store
        self.user = user
        self.logged_out = logged_out


def key_store_of(settings: Settings, environ: Mapping[str, str]) -> Store:
    """Where the profile's key lives, for rotate to put the new one in the same place."""
    if settings.key_store:
        return KeyringStore(settings.profile, settings.prompt_timeout)
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
        settings = self.settings
        store = key_store_of(settings, self.environ)
        old = store.load()
        if old is None:
            raise BaseCredentialsError(f"{store.describe()} holds no key for profile '{settings.profile}'")
        session = build_provider(settings, self.environ, self.warn).retrieve()
        iam = self._client("iam", session)
        user = self._user(session, old)
        self.report(f"creating a new access key for IAM user {user or '(the caller)'}")
        new, created = self._create(iam, user, old)
        self.report(f"created key {new.access_key_id}; storing it in {store.describe()}")
        old_facts = self._facts()
        self._store(store, new, old, iam, user)
        self._record(created)
        logged_out = session_cache(self.environ).remove_profile(settings.profile)
        self.report(f"waiting until AWS accepts key {new.access_key_id} (up to {self.propagation_timeout:g} s)")
        self._prove(new, store, old, old_facts, iam, user)
        self.report(f"key {new.access_key_id} works; deleting the old key {old.access_key_id} at AWS")
        self._delete(iam, user, old.access_key_id, new)
        return Rotated(old.access_key_id, new.access_key_id, store.describe(), user, logged_out)

    # --- the steps --------------------------------------------------------------------------------

    def _user(self, session: Credentials, old: AccessKey) -> Optional[str]:
        """The IAM user the MFA session belongs to, whose keys are rotated."""
        try:
            arn = self._client("sts", session).get_caller_identity().get("Arn", "")
        except Exception as error:
            raise self._failed("STS GetCallerIdentity", error, f"nothing changed: key {old.access_key_id} is stored")
        return _user_name(str(arn))

    def _create(self, iam: Any, user: Optional[str], old: AccessKey) -> "tuple[AccessKey, float]":
        try:
            answer = iam.create_access_key(**_user_arg(user))["AccessKey"]
        except Exception as error:
            if _code(error) == "LimitExceeded":
                raise AccessKeyLimitError(self._limit_message(iam, user, old)) from None
            raise self._failed(
                "IAM CreateAccessKey", error, f"nothing changed: key {old.access_key_id} is still stored"
            )
        new = AccessKey(answer["AccessKeyId"], answer["SecretAccessKey"])
        created = answer.get("CreateDate")
        return new, float(calendar.timegm(created.utctimetuple())) if created is not None else self.clock()

    def _store(self, store: Store, new: AccessKey, old: AccessKey, iam: Any, user: Optional[str]) -> None:
        try:
            store.save(new)
        except MfaProcessError as error:
            undone = self._undo_create(iam, user, new)
            raise RotationError(
                f"could not store the new key ({error}); {undone}; key {old.access_key_id} is still stored"
            ) from None

    def _prove(
        self, new: AccessKey, store: Store, old: AccessKey, old_facts: Dict[str, str], iam: Any, user: Optional[str]
    ) -> None:
        """GetCallerIdentity signed with the new key, until IAM has propagated it."""
        client = self._client("sts", None, new)
        deadline = time.monotonic() + self.propagation_timeout
        attempt = 0
        while True:
            try:
                client.get_caller_identity()
                return
            except Exception as error:  # not propagated yet, or the network: tried again until the bound
                if time.monotonic() >= deadline:
                    last = error
                    break
            self.sleep(_RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)])
            attempt += 1
        try:
            store.save(old)
            self._restore_facts(old_facts)
        except MfaProcessError as error:
            raise RotationError(
                f"new key {new.access_key_id} did not work ({_said(last)}), and the old key could not be stored again "
                f"({error}); key {new.access_key_id} stays stored: if it keeps failing, run "
                f"`mfa-process add --profile {self.settings.profile}` with key {old.access_key_id}"
            ) from None
        undone = self._undo_create(iam, user, new)
        raise RotationError(
            f"new key {new.access_key_id} did not work within {self.propagation_timeout:g} s ({_said(last)}); "
            f"key {old.access_key_id} is stored again and still active; {undone}"
        )

    def _delete(self, iam: Any, user: Optional[str], old_key_id: str, new: AccessKey) -> None:
        try:
            iam.delete_access_key(AccessKeyId=old_key_id, **_user_arg(user))
        except Exception as error:
            raise RotationError(
                f"new key {new.access_key_id} is stored and works, but the old key {old_key_id} could not be deleted "
                f"at AWS ({_said(error)}); delete it: {self._delete_command(user, old_key_id)}"
            ) from None

    # --- helpers --------------------------------------------------------------------------------

    def _undo_create(self, iam: Any, user: Optional[str], new: AccessKey) -> str:
        try:
            iam.delete_access_key(AccessKeyId=new.access_key_id, **_user_arg(user))
        except Exception as error:
            return (
                f"the new key {new.access_key_id} exists at AWS but is not used ({_said(error)}): delete it with "
                f"{self._delete_command(user, new.access_key_id)}"
            )
        return f"the new key {new.access_key_id} was deleted at AWS"

    def _limit_message(self, iam: Any, user: Optional[str], old: AccessKey) -> str:
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
        return f"IAM user {user or '(the caller)'} already has two access keys, the most IAM allows: {listed}; {fix}"

    def _delete_command(self, user: Optional[str], key_id: str) -> str:
        user_part = f" --user-name {user}" if user else ""
        return (
            f"`mfa-process exec --profile {self.settings.profile} -- aws iam delete-access-key{user_part} "
            f"--access-key-id {key_id}`"
        )

    def _failed(self, action: str, error: Exception, state: str) -> RotationError:
        return RotationError(f"{action} failed ({_said(error)}); {state}")

    def _facts(self) -> Dict[str, str]:
        from_config, _ = read_profile(self.settings.profile, self.environ)
        return {key: from_config[key] for key in (CREATED_OPTION, ADDED_OPTION) if key in from_config}

    def _record(self, created: float) -> None:
        try:
            record_facts(
                self.settings.profile, self.environ, bool(self.settings.key_store), created=created, by="rotate"
            )
        except MfaProcessError as error:  # the key is stored; only its age is not recorded
            self.warn(f"could not record the new key's creation date in the config file ({error})")

    def _restore_facts(self, facts: Dict[str, str]) -> None:
        created = parse_time(facts.get(CREATED_OPTION, ""))
        added = parse_time(facts.get(ADDED_OPTION, ""))
        record_facts(self.settings.profile, self.environ, bool(self.settings.key_store), created, added, by="rotate")

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


def _user_name(arn: str) -> Optional[str]:
    """``alice`` of ``arn:aws:iam::123456789012:user/path/alice``; None for anything else (root)."""
    _, _, resource = arn.partition(":user/")
    return resource.rsplit("/", 1)[-1] or None


def _user_arg(user: Optional[str]) -> Dict[str, str]:
    return {"UserName": user} if user else {}


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
