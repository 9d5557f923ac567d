"""Who may read a run's media: the owner, a teacher of the owner's class, anyone for a
cookie-less run; nobody else."""

from __future__ import annotations

from server.engine.people.identity import Identity, anonymous, guest
from server.engine.picture_access import may_see, needs_class_teacher, teacher_key
from server.engine.run_record import RecordedOwner
from server.protocol import Role

MIKA = RecordedOwner("m-1", 3, "Mika")
MIKA_IDENTITY = Identity(Role.STUDENT, "m-1", "Mika", 3, "4b")
NOAH = Identity(Role.STUDENT, "m-2", "Noah", 3, "4b")
MS_LEE = Identity(Role.TEACHER, teacher_key(5), "ms-lee")
MR_KIM = Identity(Role.TEACHER, teacher_key(6), "mr-kim")


def test_the_owner_may_see_their_own_media() -> None:
    assert may_see(MIKA_IDENTITY, MIKA, None)


def test_a_classmate_may_not() -> None:
    assert not may_see(NOAH, MIKA, None)


def test_nobody_without_an_identity_may_see_a_members_media() -> None:
    assert not may_see(None, MIKA, None)


def test_the_teacher_of_the_owners_class_may_see_it() -> None:
    assert needs_class_teacher(MS_LEE, MIKA)
    assert may_see(MS_LEE, MIKA, teacher_key(5))


def test_another_teacher_may_not() -> None:
    assert not may_see(MR_KIM, MIKA, teacher_key(5))


def test_a_teacher_may_not_when_the_class_is_gone() -> None:
    assert not may_see(MS_LEE, MIKA, None)


def test_a_student_never_makes_the_store_look_up_a_teacher() -> None:
    assert not needs_class_teacher(NOAH, MIKA)
    assert not may_see(NOAH, MIKA, NOAH.key)  # even if handed their own key as the teacher


def test_a_guests_media_are_theirs_alone() -> None:
    owner = RecordedOwner(guest("abc").key)
    assert may_see(guest("abc"), owner, None)
    assert not may_see(guest("xyz"), owner, None)
    assert not needs_class_teacher(MS_LEE, owner)  # no class: no teacher to ask
    assert not may_see(MS_LEE, owner, None)


def test_a_cookie_less_runs_media_are_read_by_url() -> None:
    owner = RecordedOwner(anonymous("nonce").key)
    assert may_see(None, owner, None)
    assert may_see(NOAH, owner, None)
