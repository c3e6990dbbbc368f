"""Verifying and keying a store's keyed chain (see :mod:`dpledger.domain.keyring`).

:class:`KeyedCheck` is what ``verify`` adds on a keyed store: every stored keyed head authentic
and equal to its aggregate's stored chain head, and the keyed manifest authentic and equal to
the sum of the heads. :class:`ChainKeys` is mixed into :class:`dpledger.Ledger`:
:meth:`ChainKeys.key_store` keys a store written without a key, or re-keys every row with the
current key after a rotation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from dpledger.adapters.heads import HeadRow, head_authentic, read_chain
from dpledger.adapters.store import DpledgerApplication
from dpledger.domain.chain import BrokenLink
from dpledger.domain.keyring import (
    CHAIN_KEY_ENV,
    CHAIN_KEY_FILE_ENV,
    ChainKeyError,
    Keyring,
    Manifest,
    head_mac,
    key_check,
)

STORE = "the whole store"
"""How verification names a break of the store's keyed manifest (no account's own)."""

Tip = tuple[str, int, str | None]
"""An aggregate's name, its last stored version (0: none) and that event's recorded digest."""


def _need_key() -> ChainKeyError:
    return ChainKeyError(
        f"this store is keyed: give {CHAIN_KEY_ENV} to check it",
        fix=f"set {CHAIN_KEY_ENV} (or {CHAIN_KEY_FILE_ENV}), or pass chain_key= to Ledger",
    )


@dataclass
class KeyedCheck:
    """The keyed part of one verification, read before the events are (so a missing or
    wrong key is an error at once, not after reading the whole store)."""

    keyring: Keyring | None
    manifest: Manifest | None
    heads: dict[str, HeadRow]
    unkeyed_with_key: bool = False
    """A key was given but the store holds events and no manifest."""

    @classmethod
    def load(cls, app: DpledgerApplication, *, keying: bool = False) -> KeyedCheck:
        """The store's keyed rows; raises :class:`ChainKeyError` if the store is keyed and no
        key, or not the store's key, is given, or a head's key id is not in the keyring."""
        keyring = app.chain_keyring
        manifest, heads = read_chain(app.recorder)
        if manifest is None:
            empty = not app.recorder.select_notifications(start=None, limit=1)
            return cls(keyring, None, heads, keyring is not None and not keying and not empty)
        if keyring is None:
            raise _need_key()
        key = keyring.get(manifest.key_id)
        if key is None and manifest.key_id != "?":
            raise ChainKeyError(
                f"the chain key does not match (key id {manifest.key_id} expected; "
                f"given: {', '.join(keyring.ids)})",
                fix="give the key the store was keyed with (as an old key after a rotation)",
            )
        if key is not None and key_check(key) != manifest.check:
            raise ChainKeyError(
                f"the chain key does not match (key id {manifest.key_id} expected, but the "
                "secret given under that id is another)",
                fix="give the secret the store was keyed with",
            )
        missing: dict[str, int] = {}
        for row in heads.values():
            if keyring.get(row.key_id) is None:
                missing[row.key_id] = missing.get(row.key_id, 0) + 1
        if missing:
            named = ", ".join(f"{k} ({n} head(s))" for k, n in sorted(missing.items()))
            raise ChainKeyError(
                f"the keyring does not hold the chain key id(s) {named} that keyed rows of "
                "this store",
                fix="add the old key(s) to the keyring (DPLEDGER_CHAIN_OLD_KEYS, or later lines "
                "of the key file), or re-key the store with Ledger.key_store() before dropping "
                "them",
            )
        return cls(keyring, manifest, heads)

    def has_head(self, uuid: UUID) -> bool:
        """Whether a keyed head names this aggregate."""
        return str(uuid) in self.heads

    def breaks(self, tips: Mapping[UUID, Tip], *, whole: bool) -> list[BrokenLink]:
        """What the keyed rows expose, given each checked aggregate's stored tip; ``whole``:
        the tips are every aggregate of the store (heads of no tip were deleted)."""
        if self.unkeyed_with_key:
            return [
                BrokenLink(
                    STORE,
                    0,
                    "a chain key was given but the store has no keyed manifest: it was never "
                    "keyed (key it with Ledger.key_store()), or its keyed rows were deleted",
                )
            ]
        if self.manifest is None or self.keyring is None:
            return []  # a store never keyed, checked without a key: its chain only
        broken = self._manifest_breaks()
        by_name = {str(uuid): tip for uuid, tip in tips.items()}
        for aggregate_id, row in sorted(self.heads.items()):
            tip = by_name.get(aggregate_id)
            if tip is None and not whole:
                continue
            name = f"?{aggregate_id}" if tip is None else tip[0]
            if not head_authentic(self.keyring, row):
                reason = "its keyed chain head is not authentic (altered or forged)"
                broken.append(BrokenLink(name, row.version, reason))
                continue
            link = _compare(name, row, tip)
            if link is not None:
                broken.append(link)
        for aggregate_id, (name, version, _digest) in sorted(by_name.items()):
            if aggregate_id not in self.heads and version > 0:
                reason = (
                    "it has no keyed chain head: its events were written without the chain "
                    "key (forged), or its head was deleted"
                )
                broken.append(BrokenLink(name, version, reason))
        return broken

    def _manifest_breaks(self) -> list[BrokenLink]:
        manifest, keyring = self.manifest, self.keyring
        assert manifest is not None
        assert keyring is not None
        key = keyring.get(manifest.key_id)
        if key is None or not manifest.authentic(key):
            return [BrokenLink(STORE, 0, "the keyed manifest is not authentic (altered)")]
        held = Manifest.of_heads(row.head for row in self.heads.values())
        if (held.aggregates, held.events, held.total) == (
            manifest.aggregates,
            manifest.events,
            manifest.total,
        ):
            return []
        reason = (
            f"the keyed manifest counts {manifest.aggregates} aggregate(s) and "
            f"{manifest.events} event(s), but the keyed heads stored give {held.aggregates} and "
            f"{held.events}"
            + (
                ", and a different set of heads (a head deleted, or put back to an older one)"
                if (held.aggregates, held.events) == (manifest.aggregates, manifest.events)
                else " (an account deleted, head and all, or a head put back to an older one)"
            )
        )
        return [BrokenLink(STORE, manifest.events, reason)]


def _compare(name: str, row: HeadRow, tip: Tip | None) -> BrokenLink | None:
    """How an authentic keyed head and the stored events disagree, if they do."""
    version = 0 if tip is None else tip[1]
    if version == 0:
        return BrokenLink(
            name,
            row.version,
            f"its keyed head is at version {row.version} but the store holds none of its "
            "events (the account was deleted)",
        )
    if version > row.version:
        return BrokenLink(
            name,
            row.version + 1,
            f"its events after version {row.version} are not covered by its keyed head "
            "(appended without the chain key: forged)",
        )
    if version < row.version:
        return BrokenLink(
            name,
            version + 1,
            f"its keyed head is at version {row.version} but its events end at version "
            f"{version} (events removed from its end)",
        )
    if tip is not None and tip[2] != row.digest:
        return BrokenLink(
            name,
            version,
            "its last event is not the one its keyed head holds (the history was rewritten "
            "and its chain recomputed)",
        )
    return None


@dataclass(frozen=True)
class KeyingReport:
    """What :meth:`ChainKeys.key_store` did."""

    aggregates: int
    events: int
    key_id: str
    rekeyed: bool
    """The store was keyed already: every row is now keyed with the current key."""


class ChainKeys:
    """Keying a store, mixed into :class:`dpledger.Ledger`."""

    _app: DpledgerApplication
    _keying: bool = False

    if TYPE_CHECKING:

        def verify(self, account_id: str | None = None) -> Any:
            """See :meth:`dpledger.readside.ReadSide.verify`."""

    @property
    def chain_key_id(self) -> str | None:
        """The id of the current chain key (``None``: no chain key configured)."""
        keyring = self._app.chain_keyring
        return None if keyring is None else keyring.current.id

    def key_store(self) -> KeyingReport:
        """Key the store with the current chain key: from now on every commit keys its chain
        heads and the store's manifest, and ``verify`` checks them.

        A store written without a key gets a keyed head for each aggregate's stored head (it
        must verify first: keying vouches for the history as it is now). A store keyed
        already is checked with the whole keyring, then every row is keyed again with the
        current key, so the old keys can be dropped after a rotation. Run it while nothing
        else writes; a store changed meanwhile is left as it was (:class:`ChainKeyError`).
        """
        keyring = self._app.chain_keyring
        if keyring is None:
            raise ChainKeyError(
                "no chain key is configured to key the store with",
                fix=f"set {CHAIN_KEY_ENV} (or {CHAIN_KEY_FILE_ENV}), or pass chain_key= to Ledger",
            )
        recorder: Any = self._app.recorder
        seen = int(recorder.max_notification_id() or 0)
        self._keying = True
        try:
            report = self.verify()
        finally:
            self._keying = False
        if not report.ok:
            first = report.first_broken
            raise ChainKeyError(
                f"the store does not verify ({first.account_id} at version {first.version}: "
                f"{first.reason}); it was not keyed",
                fix="keying would vouch for a tampered history: restore it first",
            )
        tips: dict[str, tuple[int, str]] = {}
        start: int | None = None
        while True:
            batch = recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False)
            batch = [n for n in batch if n.id <= seen]
            if not batch:
                break
            for notification in batch:
                event: Any = self._app.mapper.to_domain_event(notification)
                aggregate_id = str(UUID(str(notification.originator_id)))
                tips[aggregate_id] = (event.originator_version, event.digest)
            start = batch[-1].id
        key = keyring.current
        rows = [
            HeadRow(aggregate, version, digest, key.id, head_mac(key, aggregate, version, digest))
            for aggregate, (version, digest) in sorted(tips.items())
        ]
        manifest = Manifest.of_heads(row.head for row in rows).signed(key)
        rekeyed = read_chain(recorder)[0] is not None
        recorder.write_keyed(rows, manifest, seen)
        return KeyingReport(len(rows), manifest.events, key.id, rekeyed)
