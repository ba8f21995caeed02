"""Every failure mfa-process reports, as a typed exception.

Modules raise these; only the CLI edge turns them into a one-line message and an exit code,
so the library never prints and never exits.
"""

from __future__ import annotations

EXIT_FAILURE = 1  # the call was fine but could not be served (AWS, network, lock, terminal)
EXIT_USAGE = 2  # the input is wrong: fix the command line or the profile
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it


def login_hint(profile: str) -> str:
    """What to do where no code can be asked for: the one place that spells it. The name is
    quoted as one shell word: the command is there to be pasted."""
    from shlex import quote

    return f"run `mfa-process login --profile {quote(profile)}` in a terminal first"


class MfaProcessError(Exception):
    """Base class: ``str(error)`` is the whole user-facing message, fix included."""

    exit_code = EXIT_FAILURE


# --- bad input: caught before anything leaves the machine ---------------------------------


class ConfigError(MfaProcessError):
    """A setting is missing or malformed (command line, environment or profile)."""

    exit_code = EXIT_USAGE


class ProfileNotFoundError(ConfigError):
    """The named base profile is in neither AWS config file."""


class ConfigFileError(ConfigError):
    """An AWS config or credentials file cannot be read or parsed."""


class ConfigWriteError(MfaProcessError):
    """`configure` could not write the AWS config file (no space, no permission); it is unchanged."""


class InvalidMfaSerialError(ConfigError):
    """The MFA serial is not a usable device identifier (or is a FIDO key)."""


class InvalidTokenCodeError(ConfigError):
    """``--token-code`` is not six digits."""


class InvalidDurationError(ConfigError):
    """The session duration is outside what STS accepts or what the cache can serve."""


class RecursiveProfileError(ConfigError):
    """The base profile would call mfa-process again to get its own keys."""


class BaseCredentialsError(ConfigError):
    """The base profile has no usable long-term keys."""


class TemporaryBaseCredentialsError(BaseCredentialsError):
    """The base profile resolves to temporary keys; GetSessionToken needs long-term ones."""


# --- keys in the keyring and their rotation ---------------------------------------------------


class InvalidKeyError(ConfigError):
    """An access key ID or secret that is not shaped like an IAM user's long-term key."""


class KeyStoreConflictError(BaseCredentialsError):
    """The base profile has keys in the AWS files and says they are in the keyring too."""


class KeyringError(MfaProcessError):
    """The OS keyring has no usable backend, is locked, or failed to read or write an entry."""


class KeyringEntryError(KeyringError):
    """The keyring has no entry for the profile, or one mfa-process did not write."""


class RotationError(MfaProcessError):
    """`rotate` stopped; the message says which keys exist at AWS and which one is stored."""


class AccessKeyLimitError(RotationError):
    """The IAM user already has the two access keys IAM allows."""


# --- getting the code from a person -----------------------------------------------------------


class NoTerminalError(MfaProcessError):
    """No controlling terminal to ask on, and no code given."""


class PromptAbortedError(MfaProcessError):
    """The person closed the prompt (end of input), cancelled a dialog, or kept typing malformed codes."""


class PromptTimeoutError(PromptAbortedError):
    """Nobody answered within mfa_prompt_timeout."""


class CallerGoneError(PromptAbortedError):
    """The program that started mfa-process exited (or gave up on it) while we waited."""


class NoPromptError(NoTerminalError):
    """No terminal, no dialog and no mfa_process command: no way to get a code here."""


class PromptUnavailableError(ConfigError):
    """The code source named by mfa_prompt / --prompt cannot work on this system."""


class CodeCommandError(MfaProcessError):
    """The mfa_process command (or ykman) failed, hung, or printed no 6-digit code."""


class CodeSourceUnavailableError(CodeCommandError):
    """The helper a code source runs says it cannot ask here: no YubiKey plugged in, no display
    for a dialog. A chain of sources (`mfa_prompt = ykman, zenity, terminal`) passes to the next."""


class NoCodeSourceError(NoPromptError):
    """No source of a chain could ask; the message says what each one said."""


# --- STS --------------------------------------------------------------------------------------


class StsError(MfaProcessError):
    """GetSessionToken failed for a reason the person must act on."""


class MfaCodeRejectedError(StsError):
    """AWS rejected the code: wrong, or already used within its 30-second window."""


# What STS's "invalid MFA one time pass code" means, said by the STS call and by --token-code's source.
MFA_CODE_REJECTED = "AWS rejected the MFA code: it is wrong, or was already used"


class MfaDeviceNotAssociatedError(StsError):
    """The MFA serial is not a device of the user that owns the base keys."""


class InvalidAccessKeyError(StsError):
    """AWS does not know the base access key, or its secret does not match."""


class ThrottledError(StsError):
    """STS refused the call for rate."""


class StsUnreachableError(StsError):
    """No answer from the STS endpoint (or none within mfa_sts_timeout)."""


class StsAnswerError(StsError):
    """The STS endpoint answered, but not with a whole GetSessionToken response (a proxy page?)."""


class SessionExpiresTooSoonError(StsError):
    """STS issued a session already expired, or inside the refresh margin, by this machine's clock."""


# --- the cache and the lock -------------------------------------------------------------------


class UnsafeCacheError(MfaProcessError):
    """A cache folder or lock file that another user owns or can change, or a link or special file
    where a file of ours belongs: it is not used (the session is then served uncached)."""


# --- concurrency ------------------------------------------------------------------------------


class LockTimeoutError(MfaProcessError):
    """Another mfa-process held the session lock for longer than we may wait."""


# --- exec -------------------------------------------------------------------------------------


class CommandNotFoundError(MfaProcessError):
    """`exec` was given a command that is not on PATH."""

    exit_code = 127  # as shells report it


class CommandNotRunnableError(MfaProcessError):
    """`exec` found the command but the OS would not run it."""

    exit_code = 126


class UnprintableValueError(MfaProcessError):
    """A session value for `env`/`exec` holds a line break, control or non-ASCII character:
    printed for a shell it could end a statement early or drive the terminal."""


# --- the container-credentials server -------------------------------------------------------


class RoleProfileError(ConfigError):
    """`--role-profile` names a profile that is not a usable role profile."""


class AssumeRoleError(StsError):
    """STS refused, or did not answer, the AssumeRole of the role profile."""


class BindAddressError(ConfigError):
    """`--bind` or `--port` asks for an address the server must not, or cannot, listen on."""


class ServerStartError(MfaProcessError):
    """The server could not listen where it was asked to (port taken, address not on this machine)."""


class SessionUnavailableError(MfaProcessError):
    """The server holds no session it may hand out (ended; its renewal pending or failed)."""


# --- the command line -------------------------------------------------------------------------


class UnknownCommandError(ConfigError):
    """The first word is neither a command nor an option (`mfa-process stauts`)."""
