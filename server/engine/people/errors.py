"""What the people store refuses, each with a stable reason a handler maps to an HTTP status.

`reason` is the string the HTTP API sends as its error `code` (docs/http-api.md); the wire
`code` of these errors stays `invalid_field`, since none of them travels on the socket.
"""

from __future__ import annotations

from typing import ClassVar

from server.engine.errors import AtelierError
from server.protocol import ErrorCode


class PeopleError(AtelierError):
    """A request about teachers, classes, members or pictures that the store refuses."""

    code = ErrorCode.INVALID_FIELD
    #: The stable HTTP API code (`{"error": {"code": reason}}`).
    reason: ClassVar[str] = "invalid_field"


class InvalidName(PeopleError):
    """A teacher's or a class's name that is empty, too long or holds control characters."""

    reason = "invalid_name"


class InvalidNickname(PeopleError):
    """A nickname the rules refuse; the message says which rule (`nicknames.py`)."""

    reason = "invalid_nickname"


class WeakPassword(PeopleError):
    """A teacher's password shorter than `MIN_PASSWORD_LENGTH` (or longer than the maximum)."""

    reason = "weak_password"


class TeacherNameTaken(PeopleError):
    reason = "teacher_name_taken"


class UnknownTeacher(PeopleError):
    reason = "unknown_teacher"


class UnknownClass(PeopleError):
    reason = "unknown_class"


class UnknownMember(PeopleError):
    reason = "unknown_member"


class UnknownCode(PeopleError):
    """No class has this join code (never one that was rotated away)."""

    reason = "unknown_code"


class CodeExpired(PeopleError):
    reason = "code_expired"


class NicknameTaken(PeopleError):
    """The nickname belongs to a member already; only that member's PIN lets someone in."""

    reason = "nickname_taken"


class ClassFull(PeopleError):
    """The class has as many members as the operator allows (`max_class_members`)."""

    reason = "class_full"


class WrongPin(PeopleError):
    """No valid PIN for this member: wrong, expired, used, or tried too often."""

    reason = "wrong_pin"


class NicknameLocked(PeopleError):
    """The teacher locked this member: nobody joins under the nickname, not even with a PIN,
    until the teacher unlocks it (`moderation.py`)."""

    reason = "nickname_locked"


class SchemaTooNew(PeopleError):
    """The database was written by a newer version of the server than this one."""

    code = ErrorCode.INTERNAL
    reason = "internal"
