"""Where a key comes from: one variable, older keys beside it, or a key file.

The chain key (:mod:`dpledger.adapters.heads`) and the data key
(:mod:`dpledger.adapters.datakeys`) are configured alike, so an operator learns one convention:
``$<NAME>`` holds the current key and ``$<NAME>_OLD_KEYS``-style variables the older ones still
needed, or ``$<NAME>_FILE`` names a file of keys, one a line, the current one first.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dpledger.domain.errors import DpledgerError


def configured_keys(
    env: Mapping[str, str],
    *,
    key_env: str,
    old_env: str,
    file_env: str,
    what: str,
    error: type[DpledgerError],
) -> tuple[list[str], str] | None:
    """The key texts configured in ``env`` (the current one first) and where they came from, or
    ``None`` if none is. A key file's blank lines and ``#`` comments are skipped; a file that
    cannot be read raises ``error`` naming ``file_env``."""
    old = env.get(old_env, "").split()
    if env.get(key_env):
        return [env[key_env], *old], key_env
    name = env.get(file_env)
    if not name:
        return None
    try:
        text = Path(name).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise error(
            f"cannot read the {what} file {name}: {exc.strerror or exc}",
            fix=f"check {file_env} names a readable file",
        ) from exc
    lines = [line.strip() for line in text.splitlines()]
    keys = [line for line in lines if line and not line.startswith("#")]
    return [*keys, *old], f"the {what} file {name}"
