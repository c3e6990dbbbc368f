"""The chain key: keyed chain heads and the keyed manifest that make tampering evident.

A hash chain (:mod:`dpledger.domain.chain`) can be recomputed by whoever can write the database.
With a chain key, held outside the database, every commit also writes:

- for each aggregate it touched, its **keyed head**: ``(aggregate id, version, digest)`` with an
  HMAC under the key (:func:`head_mac`), so appending a forged event, cutting the tail or
  recomputing a rewritten chain no longer matches an authentic head;
- the store's **keyed manifest** (:class:`Manifest`): how many aggregates and events the store
  holds and an additive hash of every head (:func:`head_element`), with an HMAC, so deleting a
  whole account, head and all, or putting back an older authentic head, no longer adds up.

Keys rotate: each keyed row names the id of the key that wrote it (:class:`ChainKey`), and a
:class:`Keyring` holds the current key and the old ones still needed to check older rows.

What no key held beside the store can tell is the whole store put back to an earlier, consistent
copy of itself: seals kept outside it (``Ledger.seals()``) cover that.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dpledger.domain.errors import StoreError

CHAIN_KEY_ENV = "DPLEDGER_CHAIN_KEY"
"""The current chain key (``id:secret``, or a bare secret named by its fingerprint)."""
CHAIN_OLD_KEYS_ENV = "DPLEDGER_CHAIN_OLD_KEYS"
"""Older chain keys still needed to check rows they wrote, separated by spaces."""
CHAIN_KEY_FILE_ENV = "DPLEDGER_CHAIN_KEY_FILE"
"""A file of chain keys, one a line: the first is current, the others old."""
MIN_SECRET_BYTES = 16
_MODULUS = 1 << 512
_NAMED = re.compile(r"^([A-Za-z0-9_.-]{1,32}):(.+)$", re.DOTALL)


class ChainKeyError(StoreError):
    """The chain key is missing, malformed or not the one the store was keyed with: a key
    problem to fix, never evidence of tampering."""


def key_id_of(secret: bytes) -> str:
    """The id of a key given without one: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(secret).hexdigest()[:8]


@dataclass(frozen=True)
class ChainKey:
    """One chain key: its id (stored beside every row it keys) and its secret (never stored)."""

    id: str
    secret: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str | bytes, *, source: str = CHAIN_KEY_ENV) -> ChainKey:
        """A key from ``id:secret`` or a bare secret (its id is then :func:`key_id_of` it).

        A bare secret that itself looks like ``word:rest`` must be given with an id.
        """
        if isinstance(text, bytes):
            secret, key_id = text, None
        else:
            text = text.strip()
            named = _NAMED.match(text)
            key_id, secret = (named[1], named[2].encode()) if named else (None, text.encode())
        if len(secret) < MIN_SECRET_BYTES:
            raise ChainKeyError(
                f"the chain key in {source} is shorter than {MIN_SECRET_BYTES} bytes",
                fix="use a long random secret, e.g. `python -c 'import secrets; "
                "print(secrets.token_hex(32))'`",
            )
        return cls(key_id or key_id_of(secret), secret)


@dataclass(frozen=True)
class Keyring:
    """The current chain key, which keys every new row, and old keys that check older rows."""

    current: ChainKey
    old: tuple[ChainKey, ...] = ()

    @classmethod
    def of(cls, *keys: str | bytes | ChainKey, source: str = "chain_key") -> Keyring:
        """A keyring from keys as text (``id:secret`` or a secret) or :class:`ChainKey`: the
        first is current."""
        parsed = [k if isinstance(k, ChainKey) else ChainKey.parse(k, source=source) for k in keys]
        if not parsed:
            raise ChainKeyError(f"no chain key in {source}", fix="give at least one key")
        ids = [k.id for k in parsed]
        for key in parsed:
            if ids.count(key.id) > 1:
                raise ChainKeyError(
                    f"two chain keys in {source} have the id {key.id}",
                    fix="give each key its own id (id:secret)",
                )
        return cls(parsed[0], tuple(parsed[1:]))

    @property
    def ids(self) -> tuple[str, ...]:
        """Every key id held, current first."""
        return (self.current.id, *(k.id for k in self.old))

    def get(self, key_id: str) -> ChainKey | None:
        """The key with this id, if held."""
        for key in (self.current, *self.old):
            if key.id == key_id:
                return key
        return None


def _mac(secret: bytes, *parts: object) -> str:
    message = "\n".join(str(p) for p in parts).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def head_mac(key: ChainKey, aggregate_id: str, version: int, digest: str) -> str:
    """The HMAC of an aggregate's chain head at ``version``."""
    return _mac(key.secret, "dpledger-head-v1", key.id, aggregate_id, version, digest)


def key_check(key: ChainKey) -> str:
    """A short value the manifest keeps to tell a wrong secret given under the right id from
    an altered manifest."""
    return _mac(key.secret, "dpledger-key-check-v1", key.id)[:16]


def head_element(aggregate_id: str, version: int, digest: str) -> int:
    """One head's term of the manifest's additive hash (independent of the key, so rotating
    the key never changes the sum)."""
    text = f"dpledger-head-element-v1\n{aggregate_id}\n{version}\n{digest}"
    return int.from_bytes(hashlib.sha512(text.encode()).digest(), "big")


@dataclass(frozen=True)
class Manifest:
    """The store's keyed manifest: aggregates and events held, and the sum of every head's
    :func:`head_element` (modulo 2**512), with the HMAC of the key ``key_id``.

    Kept up to date by every commit in its own transaction, by adding the new heads' terms and
    subtracting the replaced ones: the sum is never recomputed from the heads a forger could
    have changed.
    """

    aggregates: int = 0
    events: int = 0
    total: int = 0
    key_id: str = ""
    check: str = ""
    mac: str = ""

    def message(self) -> tuple[object, ...]:
        """What the HMAC covers."""
        return ("dpledger-manifest-v1", self.key_id, self.aggregates, self.events, self.total)

    def signed(self, key: ChainKey) -> Manifest:
        """This manifest keyed with ``key``."""
        unsigned = Manifest(self.aggregates, self.events, self.total, key.id, key_check(key))
        return Manifest(
            self.aggregates,
            self.events,
            self.total,
            key.id,
            unsigned.check,
            _mac(key.secret, *unsigned.message()),
        )

    def authentic(self, key: ChainKey) -> bool:
        """Whether the HMAC is this manifest's under ``key`` (constant-time comparison)."""
        return hmac.compare_digest(_mac(key.secret, *self.message()), self.mac)

    def advanced(
        self, replaced: tuple[str, int, str] | None, head: tuple[str, int, str]
    ) -> Manifest:
        """The manifest after one aggregate's head moves from ``replaced`` (``None`` for a new
        aggregate) to ``head`` (unsigned: sign it once the whole commit is added)."""
        total = self.total + head_element(*head)
        aggregates, events = self.aggregates, self.events + head[1]
        if replaced is None:
            aggregates += 1
        else:
            total -= head_element(*replaced)
            events -= replaced[1]
        return Manifest(aggregates, events, total % _MODULUS, self.key_id, self.check)

    def as_text(self) -> str:
        """The manifest as stored (one line of text)."""
        parts = (self.aggregates, self.events, f"{self.total:x}", self.key_id, self.check, self.mac)
        return " ".join(str(p) for p in parts)

    @classmethod
    def from_text(cls, text: str) -> Manifest | None:
        """A manifest read back from :meth:`as_text`; ``None`` if it is not one."""
        try:
            aggregates, events, total, key_id, check, mac = text.split(" ")
            return cls(int(aggregates), int(events), int(total, 16), key_id, check, mac)
        except ValueError:
            return None

    @classmethod
    def of_heads(cls, heads: Iterable[tuple[str, int, str]]) -> Manifest:
        """The (unsigned) manifest of a whole set of heads."""
        manifest = cls()
        for head in heads:
            manifest = manifest.advanced(None, head)
        return manifest
