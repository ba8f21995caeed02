"""A base profile's key in the AWS credentials file (``AWS_SHARED_CREDENTIALS_FILE`` or
~/.aws/credentials), read as botocore reads it and edited as text: comments and other profiles
stay as they are, the file is replaced atomically, and no backup keeps the old secret."""

from __future__ import annotations

from typing import Callable, Mapping, Optional

from ..config.aws_files import credentials_file_path, read_profile
from ..config.configure import read_config_text
from ..config.profile_edit import edit_profile
from ..errors import BaseCredentialsError, ConfigFileError, ProfileNotFoundError
from .access_key import AccessKey, parse_access_key

KEY_OPTIONS = ("aws_access_key_id", "aws_secret_access_key")


class CredentialsFileStore:
    def __init__(self, profile: str, environ: Mapping[str, str]) -> None:
        self.profile = profile
        self.path = credentials_file_path(environ)
        self.environ = environ

    def describe(self) -> str:
        return self.path

    def load(self) -> Optional[AccessKey]:
        """The profile's key in this file, None when it has none; a temporary or malformed key
        is an error (it cannot be stored or rotated)."""
        try:
            _, part = read_profile(self.profile, self.environ)
        except ProfileNotFoundError:
            return None
        if not any(part.get(option) for option in KEY_OPTIONS):
            return None
        if part.get("aws_session_token"):
            raise BaseCredentialsError(
                f"profile '{self.profile}' in {self.path} holds temporary credentials (aws_session_token); "
                "only an IAM user's long-term keys can be stored or rotated"
            )
        where = f"[{self.profile}] of {self.path}"
        return parse_access_key(part.get("aws_access_key_id"), part.get("aws_secret_access_key"), where)

    def save(self, key: AccessKey, replacing: Optional[AccessKey] = None) -> None:
        """Write ``key`` as the profile's (rotate), and read it back. With ``replacing``, only
        over that key: one written there meanwhile is not overwritten."""
        values = {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}
        check = None if replacing is None else self._holding(replacing, "nothing was written")
        edit_profile(self.path, self.profile, False, values, by="rotate", check=check)
        if self.load() != key:
            raise BaseCredentialsError(f"{self.path} did not keep the new key of profile '{self.profile}'")

    def remove(self, key: AccessKey, dry_run: bool = False) -> bool:
        """Take ``key`` out of the profile in the file (add --from-credentials-file); its other
        keys and comments stay. Another key found there (written meanwhile) is left alone.
        ``dry_run``: only say whether it can be done (raises what the removal would)."""
        check = self._holding(key, "nothing was removed from the file")
        return edit_profile(
            self.path, self.profile, False, remove_keys=KEY_OPTIONS, by="add", check=check, dry_run=dry_run
        )

    def still_holds(self, secret: str) -> bool:
        """Whether the file's text still holds ``secret`` anywhere (another profile, a comment)."""
        try:
            return secret in read_config_text(self.path)
        except ConfigFileError:
            return False

    def _holding(self, key: AccessKey, outcome: str) -> Callable[[Mapping[str, str]], None]:
        def check(keys: Mapping[str, str]) -> None:
            found = (keys.get("aws_access_key_id"), keys.get("aws_secret_access_key"))
            if found != (key.access_key_id, key.secret_access_key):
                raise BaseCredentialsError(
                    f"the key of profile '{self.profile}' in {self.path} is no longer {key.access_key_id} (another "
                    f"program changed it meanwhile); {outcome}"
                )

        return check
