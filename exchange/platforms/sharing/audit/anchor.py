"""Anchoring the audit chain at the parent node, and checking a chain against its anchors.

The node's own database cannot vouch for itself: whoever may drop the append-only triggers may
also delete the last seals with their entries, and the shorter chain still verifies. So each
seal head goes to the parent (a signed node-to-node call). The parent checks that the head's
hash matches its fields and carries the child's signature, that it does not contradict a head
it already holds (same number, another hash; or a broken link to the one before), keeps it and
returns its countersignature over (child, seal number, hash, time). The child keeps the
countersignatures. `verify` then finds, by seal number:

* truncation: a head the parent countersigned (kept here or held by the parent) whose seal is
  no longer in the chain;
* a fork: a seal whose hash differs from the head the parent countersigned.

A province has no parent: its chain is reported unanchored (RFC 3161 time-stamping of its
heads by a TSA is not built yet).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from exchange.core import divisions, signing
from exchange.core.db import utcnow
from exchange.core.signing import KeyPair
from exchange.directory import keys as directory_keys
from exchange.directory import repository as directory
from exchange.platforms.sharing.audit import repository as repo
from exchange.platforms.sharing.audit.chain import AuditReport, seal_hash, signer
from exchange.platforms.sharing.audit.errors import (
    ForkedChain,
    HeadAltered,
    HeadNotSigned,
    NotMyChild,
)
from exchange.platforms.sharing.audit.models import AuditAnchor, ChildSealHead
from exchange.platforms.sharing.audit.schemas import (
    MAX_HEADS,
    AnchorReceipt,
    AnchorStatus,
    Countersigned,
    HeldHead,
    SealHead,
)
from exchange.platforms.sharing.models import AuditSeal

log = logging.getLogger("hub.sharing.anchor")


def countersign_message(child: str, seal_no: int, seal_hash: str, at: dt.datetime) -> bytes:
    """What a parent signs for a child's seal head."""
    stamp = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return f"hub-audit-anchor/v1\n{child}\n{seal_no}\n{seal_hash}\n{stamp}".encode()


def node_keys(session: Session, code: str) -> dict[str, str]:
    """Every key a neighbouring node has had (fingerprint -> public key), retired ones too:
    what it signed in the past must still verify."""
    found = {
        k.key_id: k.public_key
        for k in directory_keys.history(session, directory_keys.KeyOwner(directory_keys.NODE, code))
    }
    node = directory.get_node(session, code)
    if node is not None and node.public_key:
        found.setdefault(signing.fingerprint(node.public_key), node.public_key)
    return found


def head_of(s: AuditSeal) -> SealHead:
    return SealHead(
        seal_no=s.seal_no,
        sealed_at=s.sealed_at,
        ranges=s.ranges,
        entries=s.entries,
        high_id=s.high_id,
        pending=s.pending,
        lost=s.lost,
        digest=s.digest,
        prev_hash=s.prev_hash,
        hash=s.hash,
        signature=s.signature,
        key_id=s.key_id,
    )


def _as_seal(h: SealHead) -> AuditSeal:
    return AuditSeal(**h.model_dump())


# -- at the parent ---------------------------------------------------------------------------
def require_child(me: str, caller: str) -> str:
    division = divisions.get(caller)
    if division is None or division.parent_code != me:
        raise NotMyChild(caller, me)
    return caller


def countersign(
    session: Session, keys: KeyPair, child: str, heads: Sequence[SealHead]
) -> AnchorReceipt:
    """Check, keep and countersign a child's seal heads (all or none: a refusal raises)."""
    child_keys = node_keys(session, child)
    out: list[Countersigned] = []
    before: dict[int, str] = {}  # heads of this call, for the link of the next one
    for h in sorted(heads, key=lambda h: h.seal_no):
        seal = _as_seal(h)
        if seal_hash(seal) != h.hash:
            raise HeadAltered(child, h.seal_no)
        child_key = signer(seal, child_keys)
        if child_key is None:
            raise HeadNotSigned(child, h.seal_no)
        held = repo.child_head(session, child, h.seal_no)
        if held is not None:
            if held.seal_hash != h.hash:
                _refused(child, h.seal_no, "rewritten")
                raise ForkedChain(child, h.seal_no, f"differs from the head countersigned "
                                  f"at {held.anchored_at:%Y-%m-%d %H:%M:%S}")  # fmt: skip
            out.append(_countersigned(held))
            before[h.seal_no] = held.seal_hash
            continue
        prev_hash = before.get(h.seal_no - 1)
        if prev_hash is None and (prev := repo.child_head(session, child, h.seal_no - 1)):
            prev_hash = prev.seal_hash
        if prev_hash is not None and prev_hash != h.prev_hash:
            _refused(child, h.seal_no, "unlinked")
            raise ForkedChain(child, h.seal_no, f"does not link to seal {h.seal_no - 1}")
        at = utcnow()
        row = ChildSealHead(
            child=child,
            seal_no=h.seal_no,
            seal_hash=h.hash,
            prev_hash=h.prev_hash,
            child_key_id=child_key,
            child_signature=h.signature,
            key_id=keys.key_id,
            countersignature=keys.sign(countersign_message(child, h.seal_no, h.hash, at)),
            anchored_at=at,
        )
        repo.add_child_head(session, row)
        out.append(_countersigned(row))
        before[h.seal_no] = h.hash
    return AnchorReceipt(anchor=_me(session), key_id=keys.key_id, countersigned=out)


def _refused(child: str, seal_no: int, why: str) -> None:
    # The parent's operators should hear of it, not only the child's sealer.
    log.warning(
        "a child's audit chain contradicts the heads countersigned for it",
        extra={"child": child, "seal_no": seal_no, "why": why},
    )


def children_summary(session: Session) -> list[dict[str, object]]:
    """Per child: how many heads this node holds, the last seal number and when."""
    return [
        {"child": child, "heads": n, "last_seal": last, "last_anchored_at": at.isoformat()}
        for child, n, last, at in repo.child_head_summary(session)
    ]


def _me(session: Session) -> str:
    me = directory.get_self_node(session)
    return me.code if me else ""


def _countersigned(row: ChildSealHead) -> Countersigned:
    return Countersigned(
        seal_no=row.seal_no,
        seal_hash=row.seal_hash,
        countersignature=row.countersignature,
        anchored_at=row.anchored_at,
    )


def held_heads(session: Session, child: str, *, after: int, limit: int) -> list[HeldHead]:
    return [
        HeldHead.model_validate(h, from_attributes=True)
        for h in repo.child_heads(session, child, after=after, limit=limit)
    ]


# -- at the child ----------------------------------------------------------------------------
def heads_to_anchor(session: Session, limit: int = MAX_HEADS) -> list[SealHead]:
    """The seals after the last one the parent countersigned, oldest first."""
    return [head_of(s) for s in repo.seals_after(session, repo.last_anchored(session), limit)]


def keep_receipt(
    session: Session, me: str, parent: str, sent: Sequence[SealHead], receipt: AnchorReceipt
) -> int:
    """Keep the parent's countersignatures of the heads sent; how many were new.

    Each is checked with the parent's key before it is kept: a countersignature that does not
    verify anchors nothing.
    """
    parent_keys = node_keys(session, parent)
    public = parent_keys.get(receipt.key_id)
    hashes = {h.seal_no: h.hash for h in sent}
    known = repo.last_anchored(session)
    rows = []
    for c in receipt.countersigned:
        message = countersign_message(me, c.seal_no, c.seal_hash, c.anchored_at)
        if hashes.get(c.seal_no) != c.seal_hash or c.seal_no <= known:
            continue
        if public is None or not signing.verify(public, message, c.countersignature):
            continue
        rows.append(
            AuditAnchor(
                seal_no=c.seal_no,
                seal_hash=c.seal_hash,
                anchor=parent,
                anchor_key_id=receipt.key_id,
                countersignature=c.countersignature,
                anchored_at=c.anchored_at,
            )
        )
    repo.add_anchors(session, rows)
    return len(rows)


# -- verifying -------------------------------------------------------------------------------
def check_anchors(
    session: Session,
    report: AuditReport,
    *,
    me: str,
    parent: str | None,
    held: Iterable[HeldHead] | None = None,
) -> AuditReport:
    """Add to `report` what the countersigned heads (kept here, and `held` by the parent when
    given) say about this chain: truncation and forks by seal number."""
    if parent is None:
        report.warnings.append(
            "the chain is unanchored: this node has no parent to countersign its seal heads "
            "and no RFC 3161 time-stamping authority is configured, so nothing outside this "
            "database vouches for it"
        )
        report.anchoring = AnchorStatus(anchor=None, countersigned_up_to=None,
                                        not_yet_countersigned=report.seals)  # fmt: skip
        return report
    parent_keys = node_keys(session, parent)
    kept = list(repo.anchors(session))
    problems: list[str] = []
    bad_sig = [a.seal_no for a in kept if not _countersigned_ok(me, a, parent_keys)]
    if bad_sig:
        problems.append(f"the countersignatures of {_seals(bad_sig)} do not verify with "
                        f"the keys of parent {parent}")  # fmt: skip
    pairs = [(a.seal_no, a.seal_hash) for a in kept if a.seal_no not in set(bad_sig)]
    problems += _against(session, pairs, f"countersigned by parent {parent} (kept here)")
    top = max((n for n, _ in pairs), default=None)
    status = AnchorStatus(anchor=parent, countersigned_up_to=top, not_yet_countersigned=0)
    if held is not None:
        held = list(held)
        good = [h for h in held if _held_ok(me, h, parent_keys)]
        if len(good) != len(held):
            problems.append(f"parent {parent} returned {len(held) - len(good)} heads whose "
                            "countersignature does not verify")  # fmt: skip
        problems += _against(session, [(h.seal_no, h.seal_hash) for h in good],
                             f"held by parent {parent}")  # fmt: skip
        status.compared_with_parent = True
        status.parent_holds_up_to = max((h.seal_no for h in good), default=None)
        top = max(top or 0, status.parent_holds_up_to or 0) or None
        status.countersigned_up_to = top
    last = repo.last_seal(session)
    status.not_yet_countersigned = max(0, (last.seal_no if last else 0) - (top or 0))
    if status.not_yet_countersigned:
        report.warnings.append(
            f"{status.not_yet_countersigned} of the latest seals are not yet countersigned "
            f"by parent {parent}"
        )
    report.problems += problems
    report.ok = report.ok and not problems
    report.anchoring = status
    return report


def _countersigned_ok(me: str, a: AuditAnchor, keys: dict[str, str]) -> bool:
    public = keys.get(a.anchor_key_id)
    message = countersign_message(me, a.seal_no, a.seal_hash, a.anchored_at)
    return public is not None and signing.verify(public, message, a.countersignature)


def _held_ok(me: str, h: HeldHead, keys: dict[str, str]) -> bool:
    public = keys.get(h.key_id)
    message = countersign_message(me, h.seal_no, h.seal_hash, h.anchored_at)
    return public is not None and signing.verify(public, message, h.countersignature)


def _against(session: Session, heads: Sequence[tuple[int, str]], where: str) -> list[str]:
    local = repo.seals_by_no(session, [n for n, _ in heads])
    missing = sorted(n for n, _ in heads if n not in local)
    forked = sorted(n for n, h in heads if n in local and local[n].hash != h)
    out = []
    if missing:
        one = len(missing) == 1
        out.append(f"{_seals(missing)} {'was' if one else 'were'} {where} but "
                   f"{'is' if one else 'are'} missing here: the chain was truncated")  # fmt: skip
    if forked:
        verb = "differs" if len(forked) == 1 else "differ"
        out.append(f"{_seals(forked)} {verb} from the heads {where}: the chain was rewritten "
                   f"(forked at seal {forked[0]})")  # fmt: skip
    return out


def _seals(numbers: Sequence[int]) -> str:
    return f"{'seal' if len(numbers) == 1 else 'seals'} {_spans(numbers)}"


def _spans(numbers: Sequence[int]) -> str:
    out: list[list[int]] = []
    for n in sorted(numbers):
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}..{b}" for a, b in out)
