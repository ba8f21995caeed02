"""The cache hit of the plain `mfa-process --profile NAME`, before argparse and the provider chain.

Every SDK process runs mfa-process, and nearly every run is this: the plain form, a session in
the cache. The full path spends most of its time importing what a hit never uses (argparse,
configparser, json, the chain). Here only ``--profile NAME`` and ``--profile=NAME`` are parsed,
and config/hit_settings and session/cache_hit give the session's JSON only when they are sure
it is what the full path would print. Anything else (another flag, a miss, a setting the full
path would refuse, a file not plain enough, a cache file not trusted, any exception) returns
None: main() then runs the full path, which does everything, warnings and errors included.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the cache-hit path
if TYPE_CHECKING:
    from typing import List, Mapping, Optional


def cached_output(argv: List[str], environ: Mapping[str, str]) -> Optional[str]:
    """The credential_process JSON (no final newline) the full path would print for ``argv``,
    or None: take the full path. Never raises (but lets KeyboardInterrupt through)."""
    profile = plain_profile_argument(argv)
    if profile is None:
        return None
    try:
        import time

        from ..config.hit_settings import hit_session_key
        from ..session.cache_hit import served_json
        from ..session.session_key import SessionKey

        found = hit_session_key(profile, environ)
        if found is None:
            return None
        name, base_key, serial, duration, max_mfa_age = found
        return served_json(SessionKey(name, base_key, serial, duration), environ, time.time(), max_mfa_age)
    except Exception:  # not sure of something: the full path knows what to say
        return None


def plain_profile_argument(argv: List[str]) -> Optional[str]:
    """NAME of ``--profile NAME`` or ``--profile=NAME`` alone; None for every other command line
    (argparse's abbreviations, a NAME that starts with '-', any other option)."""
    if len(argv) == 2 and argv[0] == "--profile":
        name = argv[1]
    elif len(argv) == 1 and argv[0].startswith("--profile="):
        name = argv[0][len("--profile=") :]
    else:
        return None
    return name if name and not name.startswith("-") else None
