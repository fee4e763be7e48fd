"""Sealing the audit log into a signed hash chain, and verifying it.

Writers append entries with their own MAC and never touch the chain, so they do not contend.
A sealer (one at a time, every `sharing.seal_interval_s`) takes the entries no seal covers yet,
in id order, and appends a seal: the id ranges covered, a digest of those entries, the hash of
the previous seal, and the node's Ed25519 signature over the result. An id below the highest
sealed id that is not yet visible (its transaction still open) stays *pending* and is sealed
later; after PENDING_WINDOW_S it is given up as *lost* (a rollback, or a deletion before
sealing) and named in the seal, so the verifier can report it.

What the verifier detects: an edited entry (MAC and seal digest), a deleted or inserted sealed
entry (seal digest and counts), reordered entries (the digest covers ids in order), an edited,
removed or reordered seal (hash link and signature). The window: an entry deleted by someone
who bypasses the append-only trigger *before* it is sealed (normally within one sealing
interval) leaves only a `lost` id behind, indistinguishable from a rolled-back request;
an entry edited before sealing is still caught, because its MAC was written with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row
from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.db import utcnow
from exchange.core.signing import KeyPair
from exchange.platforms.sharing.audit import repository as repo
from exchange.platforms.sharing.audit.log import AuditLog, canonical, entry_values
from exchange.platforms.sharing.audit.schemas import AnchorStatus, SignedBy
from exchange.platforms.sharing.models import AuditEntry, AuditSeal

GENESIS = "0" * 64
PENDING_WINDOW_S = 600
SEAL_LIMIT = 50_000


def _ranges(ids: Sequence[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _digest(entries: Iterable[AuditEntry | Row[Any]]) -> str:
    h = hashlib.sha256()
    for e in entries:
        h.update(f"{e.id}\n".encode())
        h.update(canonical(entry_values(e)))
        h.update(f"\n{e.mac}\n".encode())
    return h.hexdigest()


def seal_hash(s: AuditSeal) -> str:
    doc = {
        "seal_no": s.seal_no,
        "sealed_at": s.sealed_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "ranges": s.ranges,
        "entries": s.entries,
        "high_id": s.high_id,
        "pending": s.pending,
        "lost": s.lost,
        "digest": s.digest,
        "prev_hash": s.prev_hash,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def seal(
    session: Session, keys: KeyPair, *, limit: int = SEAL_LIMIT, now: dt.datetime | None = None
) -> AuditSeal | None:
    """Append the next seal over what is unsealed; None when there is nothing to seal."""
    now = now or utcnow()
    repo.lock_sealing(session)
    last = repo.last_seal(session)
    high = last.high_id if last else 0
    pending = {int(i): int(seen) for i, seen in (last.pending if last else [])}
    rows = repo.unsealed(session, above=high, pending=sorted(pending), limit=limit)
    found = {e.id for e in rows}
    now_s = int(now.timestamp())
    still: dict[int, int] = {}
    lost: list[int] = []
    for i, seen in pending.items():
        if i in found:
            continue
        if now_s - seen > PENDING_WINDOW_S:
            lost.append(i)
        else:
            still[i] = seen
    new_high = max([high, *found])
    still.update({i: now_s for i in range(high + 1, new_high) if i not in found})
    if not rows and not lost and len(still) == len(pending):
        return None
    s = AuditSeal(
        seal_no=(last.seal_no + 1) if last else 1,
        sealed_at=now,
        ranges=_ranges([e.id for e in rows]),
        entries=len(rows),
        high_id=new_high,
        pending=[[i, seen] for i, seen in sorted(still.items())],
        lost=sorted(lost),
        digest=_digest(rows),
        prev_hash=last.hash if last else GENESIS,
    )
    s.hash = seal_hash(s)
    s.signature = keys.sign(s.hash.encode())
    s.key_id = keys.key_id
    repo.add_seal(session, s)
    return s


class AuditReport(BaseModel):
    ok: bool
    seals: int
    entries_sealed: int
    entries_unsealed: int
    problems: list[str]
    warnings: list[str]
    signed_by: list[SignedBy] = []
    anchoring: AnchorStatus | None = None


@dataclass
class _Walk:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seals: int = 0
    sealed: int = 0
    signed_by: list[SignedBy] = field(default_factory=list)

    def signed(self, seal_no: int, key_id: str | None) -> None:
        last = self.signed_by[-1] if self.signed_by else None
        if last and last.key_id == key_id and last.last_seal == seal_no - 1:
            last.last_seal = seal_no
        else:
            self.signed_by.append(SignedBy(first_seal=seal_no, last_seal=seal_no, key_id=key_id))


def signer(s: AuditSeal, keys: dict[str, str]) -> str | None:
    """The fingerprint of the key (of `keys`, by fingerprint) whose signature the seal carries.

    A seal made since 0009 names its key, and only that key is tried: naming another key
    than the one that signed is itself an alteration.
    """
    if s.key_id is not None:
        public = keys.get(s.key_id)
        ok = public is not None and signing.verify(public, s.hash.encode(), s.signature)
        return s.key_id if ok else None
    for key_id, public in keys.items():
        if signing.verify(public, s.hash.encode(), s.signature):
            return key_id
    return None


def verify(
    session: Session,
    public_keys: str | Sequence[str],
    audit: AuditLog,
    *,
    window_s: int = PENDING_WINDOW_S,
    now: dt.datetime | None = None,
) -> AuditReport:
    """Walk every seal and every entry; any edit, deletion, insertion or reordering is a problem.

    `public_keys`: every key this node has signed with (`directory.keys.own_history`): a seal
    made before a key rotation carries the old key's signature.
    """
    if isinstance(public_keys, str):
        public_keys = [public_keys]
    keys = {signing.fingerprint(k): k for k in public_keys}
    now = now or utcnow()
    w = _Walk()
    prev_hash, expected_no, high, pending = GENESIS, 1, 0, set[int]()
    for s in repo.seals(session):
        w.seals += 1
        if s.seal_no != expected_no:
            w.problems.append(f"seals {expected_no}..{s.seal_no - 1} are missing")
        expected_no = s.seal_no + 1
        if s.prev_hash != prev_hash:
            w.problems.append(f"seal {s.seal_no} does not link to the seal before it")
        if seal_hash(s) != s.hash:
            w.problems.append(f"seal {s.seal_no} was altered after it was signed")
        else:
            key_id = signer(s, keys)
            w.signed(s.seal_no, key_id)
            if key_id is None:
                named = f" (it names key {s.key_id})" if s.key_id else ""
                w.problems.append(f"seal {s.seal_no} does not carry this node's signature{named}")
        _check_sealed_entries(session, audit, s, w)
        prev_hash, high = s.hash, s.high_id
        pending = {int(i) for i, _ in s.pending}
        if s.lost:
            w.warnings.append(
                f"seal {s.seal_no}: entry ids {s.lost} never appeared (a rolled-back request, "
                "or an entry deleted before it could be sealed)"
            )
    unsealed = 0
    for e in repo.entries_outside(session, above=high, pending=sorted(pending)):
        unsealed += 1
        if not audit.mac_ok(e):
            w.problems.append(f"entry {e.id} (not yet sealed) was altered")
        if (now - e.at).total_seconds() > window_s:
            w.problems.append(
                f"entry {e.id} is unsealed after {window_s} s: is the sealer running?"
            )
    outside = repo.count_up_to(session, high) - w.sealed - repo.count_ids(session, pending)
    if outside > 0:
        w.problems.append(f"{outside} entries at or below id {high} are not covered by any seal")
    return AuditReport(
        ok=not w.problems,
        seals=w.seals,
        entries_sealed=w.sealed,
        entries_unsealed=unsealed,
        problems=w.problems,
        warnings=w.warnings,
        signed_by=w.signed_by,
    )


def _check_sealed_entries(session: Session, audit: AuditLog, s: AuditSeal, w: _Walk) -> None:
    rows = repo.entries_in(session, s.ranges)
    expected = {i for lo, hi in s.ranges for i in range(lo, hi + 1)}
    got = {e.id for e in rows}
    for i in sorted(expected - got):
        w.problems.append(f"entry {i} (seal {s.seal_no}) was deleted")
    if len(rows) != s.entries and expected == got:
        w.problems.append(f"seal {s.seal_no} covers {s.entries} entries, found {len(rows)}")
    for e in rows:
        if not audit.mac_ok(e):
            w.problems.append(f"entry {e.id} (seal {s.seal_no}) was altered")
    if _digest(rows) != s.digest and expected == got:
        w.problems.append(f"seal {s.seal_no}: entries were altered or reordered")
    w.sealed += len(got & expected)


def entries(
    session: Session,
    *,
    after_id: int,
    limit: int,
    resource: str | None,
    department: str | None,
    outcome: str | None,
) -> list[AuditEntry]:
    return list(
        repo.entries(
            session,
            after_id=after_id,
            limit=limit,
            resource=resource,
            department=department,
            outcome=outcome,
        )
    )


def last_seal(session: Session) -> AuditSeal | None:
    return repo.last_seal(session)


def latest(session: Session, limit: int) -> list[AuditEntry]:
    """The newest entries first (the auditor's console page)."""
    return list(repo.latest(session, limit))
