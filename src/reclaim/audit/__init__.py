"""The audit trail: a closed vocabulary of tags, one append-only table, and the chain.

``from reclaim import audit`` gives what every feature needs to record an event
(``audit.record(session, AuditTag.X, actor=audit.Actor.user(id), target=(...))``) and
to check the chain (``audit.verify_chain``).  Reading the trail for people (search,
labels, export) is ``reclaim.oversight``.
"""

from reclaim.audit.domain import AuditTag
from reclaim.audit.recording import SYSTEM, Actor, ChainCheck, count, record, verify_chain

__all__ = ["SYSTEM", "Actor", "AuditTag", "ChainCheck", "count", "record", "verify_chain"]
