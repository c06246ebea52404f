"""Who our users are on a chat app: a mapping set by hand (``ChatIdentity``) wins; otherwise the
app's directory source (the Feishu user_id / DingTalk userid / WeCom userid it links the person
by, with the open_id / union_id / unionid it kept). A user neither covers gets no card (the bell
and e-mail still reach them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.chat.models import ChatApp, ChatIdentity
from integrations.models import DirectoryLink

# What the directory readers keep in DirectoryLink.attributes, as the platforms name them.
_OTHER = {"open_id": "open_id", "union_id": "union_id", "unionid": "unionId"}


@dataclass(frozen=True)
class Identity:
    platform_id: str
    other_ids: dict[str, str] = field(default_factory=dict)
    manual: bool = False

    def all_ids(self) -> set[str]:
        return {self.platform_id, *self.other_ids.values()} - {""}


def identities(app: ChatApp, user_ids: list[int]) -> dict[int, Identity]:
    """User id -> who they are on ``app`` (two queries whatever the number)."""
    found: dict[int, Identity] = {}
    if app.directory_id and app.directory and app.directory.kind == app.kind:
        links = DirectoryLink.objects.filter(
            source_id=app.directory_id,
            kind=DirectoryLink.Kind.PERSON,
            present=True,
            person__user_id__in=user_ids,
        ).values_list("person__user_id", "external_id", "attributes")
        for user_id, external_id, attributes in links:
            other = {
                name: str((attributes or {}).get(key) or "")
                for key, name in _OTHER.items()
                if (attributes or {}).get(key)
            }
            found[user_id] = Identity(platform_id=external_id, other_ids=other)
    manual = ChatIdentity.objects.filter(app=app, user_id__in=user_ids)
    for row in manual:
        found[row.user_id] = Identity(
            platform_id=row.platform_id,
            other_ids={str(k): str(v) for k, v in (row.other_ids or {}).items() if v},
            manual=True,
        )
    return found


def same_person(identity: Identity, clicked: tuple[str, ...], *, kind: str) -> bool:
    """Whether the ids a platform gave for who clicked are this identity's (WeCom lower-cases
    the user ids it returns: compared without case there)."""
    mine = identity.all_ids()
    theirs = set(clicked) - {""}
    if kind == ChatApp.Kind.WECOM:
        mine = {i.lower() for i in mine}
        theirs = {i.lower() for i in theirs}
    return bool(mine & theirs)


def known_on(app: ChatApp, clicked: tuple[str, ...]) -> bool:
    """Whether any of the ids is someone we know on ``app`` (directory or by hand)."""
    ids = [i for i in clicked if i]
    if not ids:
        return False
    if ChatIdentity.objects.filter(app=app, platform_id__in=ids).exists():
        return True
    if not app.directory_id:
        return False
    links = DirectoryLink.objects.filter(
        source_id=app.directory_id, kind=DirectoryLink.Kind.PERSON, present=True
    )
    if links.filter(external_id__in=ids).exists():
        return True
    return any(
        links.filter(**{f"attributes__{key}__in": ids}).exists()
        for key in ("open_id", "union_id", "unionid")
    )
