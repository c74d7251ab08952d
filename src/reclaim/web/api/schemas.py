"""Request and response bodies of the partner API (v1: field names are stable).

Requests refuse unknown fields, so a typo is an error rather than a silently ignored
option.  Signals are parsed here, once: the handlers receive
:class:`~reclaim.domain.signals.Signal` values that are known to be well formed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reclaim.domain.signals import InvalidSignalError, Signal, SignalType
from reclaim.partners.domain import FeedbackOutcome
from reclaim.takedown.domain import ResolveOutcome

MAX_BATCH = 1000
#: Videos one match request may carry, and frames each may have (an hour at 1 frame/s).
MAX_VIDEOS = 10
MAX_VIDEO_FRAMES = 3600

SignalTypeName = Literal["pdq", "md5", "sha256", "vpdq"]
HexValue = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{32}([0-9a-fA-F]{32})?$"),
    Field(description="Lower- or upper-case hex: 64 characters (PDQ, SHA-256) or 32 (MD5)."),
]
PdqHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
BankName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
HttpUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _parse(signal_type: str, value: str) -> Signal:
    try:
        return Signal.parse(signal_type, value)
    except InvalidSignalError as exc:
        raise PydanticCustomError("invalid_signal", str(exc)) from None


# --- hash feed ---------------------------------------------------------------------


CategoryName = Literal["csam", "self_generated_minor", "adult_ncii", "sextortion", "unknown"]


class FeedEntryOut(BaseModel):
    id: int = Field(description="The bank entry; quote it as `entry_id` in feedback.")
    signal_type: SignalTypeName
    value: str = Field(description="Lower-case hex.")
    bank: str = Field(
        description="The bank: one per category of verified hashes (csam, "
        "minor-self-generated, adult-ncii, sextortion), self-reported, unverified, or an "
        "imported list."
    )
    category: CategoryName = Field(
        description="What the hash is of: csam, self_generated_minor, adult_ncii, "
        "sextortion, or unknown (self-reported, or imported without a category)."
    )
    verified: bool = Field(
        description="A person at the hotline saw this picture, or it matched an entry "
        "someone saw.  False: hashed on a reporter's device, or decided without being seen."
    )
    quality: int | None = Field(
        description="PDQ quality 0–100, when known (vpdq: the best frame's)."
    )
    frames: list[str] | None = Field(
        default=None,
        description="vpdq only (not on tombstones): the video's frames as "
        "python-threatexchange's vPDQ signal lists them, `pdq_hex,quality,timestamp`; "
        "`value` is then the frame list's fingerprint.",
    )
    deleted: bool = Field(description="A tombstone: the signal was withdrawn; stop using it.")
    added_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str | None = Field(
        default=None, description="Why a tombstone's signal was withdrawn, when known."
    )


class FeedPageOut(BaseModel):
    entries: list[FeedEntryOut]
    next_cursor: str = Field(description="Pass as `cursor` to get the changes after this page.")
    has_more: bool = Field(description="True when another page is ready now.")


# --- match -------------------------------------------------------------------------


class SignalIn(Strict):
    signal_type: SignalTypeName
    value: HexValue
    dihedral: list[PdqHex] | None = Field(
        default=None,
        min_length=8,
        max_length=8,
        description=(
            "PDQ only, with `dihedral: true`: the 8 hashes of the image's rotations and "
            "flips, as pdqhash's `compute_dihedral` returns them (original first)."
        ),
    )

    def signal(self) -> Signal:
        return _parse(self.signal_type, self.value)

    @model_validator(mode="after")
    def _well_formed(self) -> SignalIn:
        if self.signal_type == "vpdq":
            raise PydanticCustomError(
                "video_in_signals", "send a video's vPDQ frames in `videos`, not in `signals`"
            )
        _parse(self.signal_type, self.value)
        if self.dihedral is not None and self.signal_type != "pdq":
            raise PydanticCustomError(
                "unexpected_dihedral_variants", "only PDQ signals have dihedral variants"
            )
        return self


class FrameIn(Strict):
    pdq: PdqHex
    quality: int = Field(ge=0, le=100)
    timestamp: float = Field(ge=0, le=86_400, description="Seconds from the video's start.")


class VideoIn(Strict):
    frames: list[FrameIn] = Field(
        min_length=1,
        max_length=MAX_VIDEO_FRAMES,
        description="The video's vPDQ frames (vPDQ samples one a second by default).",
    )


class MatchRequest(Strict):
    signals: list[SignalIn] = Field(default_factory=list, max_length=MAX_BATCH)
    videos: list[VideoIn] = Field(
        default_factory=list,
        max_length=MAX_VIDEOS,
        description="Videos to match as videos, under vPDQ's rule (see `video_rule` in "
        "the answer).",
    )
    max_distance: int | None = Field(
        default=None,
        ge=0,
        le=31,
        description="Largest PDQ Hamming distance to report (default and ceiling: the "
        "server's setting, at most 31).",
    )
    dihedral: bool = Field(
        default=False,
        description="Also match rotated and mirrored copies: every PDQ signal then "
        "carries its 8 `dihedral` hashes.",
    )
    banks: list[BankName] | None = Field(
        default=None, max_length=50, description="Only these banks (default: all)."
    )

    @model_validator(mode="after")
    def _something_to_match(self) -> MatchRequest:
        if not self.signals and not self.videos:
            raise PydanticCustomError("nothing_to_match", "send `signals`, `videos`, or both")
        return self

    @model_validator(mode="after")
    def _dihedral_consistent(self) -> MatchRequest:
        for index, item in enumerate(self.signals):
            if item.signal_type != "pdq":
                continue
            if self.dihedral and item.dihedral is None:
                raise PydanticCustomError(
                    "dihedral_variants_required",
                    "signals[{index}]: with dihedral true, every PDQ signal needs its 8 "
                    "dihedral hashes",
                    {"index": index},
                )
            if not self.dihedral and item.dihedral is not None:
                raise PydanticCustomError(
                    "unexpected_dihedral_variants",
                    "signals[{index}]: dihedral hashes were sent but dihedral is false",
                    {"index": index},
                )
        return self


class MatchOut(BaseModel):
    entry_id: int
    bank: str
    signal_type: SignalTypeName
    value: str
    distance: int = Field(description="Hamming distance for PDQ; 0 for MD5 and SHA-256.")
    verified: bool = Field(description="A person saw this picture (see the hash feed).")
    category: CategoryName


class MatchResult(BaseModel):
    index: int = Field(description="Position of the input in `signals`.")
    signal_type: SignalTypeName
    value: str
    matches: list[MatchOut] = Field(description="Best first.")


class VideoMatchOut(BaseModel):
    entry_id: int
    bank: str
    value: str = Field(description="The banked video's vpdq fingerprint (see the hash feed).")
    query_percent: float = Field(description="Share of the sent video's frames matched.")
    target_percent: float = Field(description="Share of the banked video's frames matched.")
    verified: bool
    category: CategoryName


class VideoMatchResult(BaseModel):
    index: int = Field(description="Position of the input in `videos`.")
    frames: int = Field(description="Frames received.")
    matches: list[VideoMatchOut] = Field(description="Best first.")


class VideoRuleOut(BaseModel):
    distance: int = Field(description="Frames match within this PDQ distance.")
    quality_threshold: int = Field(description="Frames of lower quality are set aside.")
    query_match_percent: float = Field(description="Needed share of the sent video.")
    target_match_percent: float = Field(description="Needed share of the banked video.")


class MatchResponse(BaseModel):
    max_distance: int
    results: list[MatchResult]
    videos: list[VideoMatchResult] = Field(default_factory=list)
    video_rule: VideoRuleOut | None = Field(
        default=None, description="The server's vPDQ rule, when `videos` were sent."
    )


# --- feedback ----------------------------------------------------------------------


class FeedbackIn(Strict):
    outcome: FeedbackOutcome
    signal_type: SignalTypeName | None = Field(
        default=None, description="With `value`: the signal the feedback is about."
    )
    value: HexValue | None = None
    entry_id: int | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="Or: the bank entry a match or a feed entry named (its `entry_id`/`id`).",
    )
    url: HttpUrl | None = Field(default=None, description="Where the content was.")
    observed_at: AwareDatetime | None = Field(
        default=None,
        description="When it happened (with a time zone); repeated events count apart.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> FeedbackIn:
        has_signal = self.signal_type is not None or self.value is not None
        if has_signal == (self.entry_id is not None):
            raise PydanticCustomError(
                "feedback_target",
                "give either signal_type and value, or entry_id (not both)",
            )
        if has_signal:
            if self.signal_type is None or self.value is None:
                raise PydanticCustomError("feedback_target", "signal_type and value go together")
            _parse(self.signal_type, self.value)
        return self

    def signal(self) -> Signal | None:
        if self.signal_type is None or self.value is None:
            return None
        return _parse(self.signal_type, self.value)


class FeedbackRequest(Strict):
    feedback: list[FeedbackIn] = Field(min_length=1, max_length=MAX_BATCH)


class FeedbackAccepted(BaseModel):
    accepted: int = Field(description="Reports stored now.")
    duplicates: int = Field(description="Reports already stored (a retried request).")


class FeedbackOut(BaseModel):
    id: int
    signal_type: SignalTypeName
    value: str
    entry_id: int | None
    outcome: FeedbackOutcome
    url: str | None
    observed_at: datetime | None
    created_at: datetime


class FeedbackPage(BaseModel):
    feedback: list[FeedbackOut]
    next_cursor: str
    has_more: bool


# --- notices -----------------------------------------------------------------------

NoticeStatusName = Literal[
    "queued",
    "sent",
    "acknowledged",
    "removed",
    "partially_removed",
    "refused",
    "expired",
]
ItemOutcomeName = Literal["pending", "partially_removed", "removed", "not_found", "refused"]
MediaOutcomeName = Literal["pending", "removed"]


class NoticeMediaOut(BaseModel):
    id: int
    url: str | None = Field(description="Where the picture or video was found.")
    outcome: MediaOutcomeName = Field(description="What Reclaim's own checks established.")
    removed_at: datetime | None = Field(description="When a check first found it gone.")


class NoticeItemOut(BaseModel):
    """One page of the notice, with the decided pictures and videos on it."""

    id: int
    url: str = Field(description="The page.")
    category: str = Field(description="csam, self_generated_minor, adult_ncii…")
    outcome: ItemOutcomeName = Field(
        description="What Reclaim's own checks established: removed when the page, or "
        "every picture below, is gone; partially_removed while some are."
    )
    platform_outcome: ItemOutcomeName | None = Field(description="What the platform said.")
    platform_reason: str | None
    removed_at: datetime | None = Field(description="When a check first found it gone.")
    media: list[NoticeMediaOut] = Field(
        description="Each decided picture or video on the page, to remove as well."
    )


class NoticeOut(BaseModel):
    id: int
    reference: str
    kind: Literal["content", "account"] = Field(
        description="content: remove the pages and pictures; account: act on the account "
        "(an offender's profile in a sextortion case)."
    )
    status: NoticeStatusName
    created_at: datetime
    sent_at: datetime | None
    deadline: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    items: list[NoticeItemOut]


class NoticePage(BaseModel):
    notices: list[NoticeOut]
    next_cursor: str
    has_more: bool


class ItemClaimIn(Strict):
    id: int = Field(ge=1, le=2**62, description="The notice item's `id`.")
    outcome: ResolveOutcome
    reason: str | None = Field(default=None, max_length=2000, description="Required when refusing.")

    @model_validator(mode="after")
    def _refusal_has_reason(self) -> ItemClaimIn:
        if self.outcome is ResolveOutcome.REFUSED and not (self.reason or "").strip():
            raise PydanticCustomError("reason_required", "a refusal needs a reason")
        return self


class ResolveRequest(Strict):
    items: list[ItemClaimIn] = Field(min_length=1, max_length=MAX_BATCH)


def signal_type_name(kind: SignalType) -> SignalTypeName:
    value: SignalTypeName = kind.value
    return value
