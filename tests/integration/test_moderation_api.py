"""The teacher's moderation over real HTTP and sockets: a blocked prompt in the class's log
with the matched word for the teacher and never for the student; hiding and flagging a
picture (the wall hears it); locking a nickname; and every call refused to another teacher,
a student and nobody."""

from __future__ import annotations

import time

from aiohttp import WSMsgType

from server.engine.people.rows import PictureRow
from server.handlers.keys import CLASSES
from tests.moderation_support import get_json, next_of, socket_answers
from tests.people_support import (
    api_json,
    api_send,
    create_class,
    error_of,
    joined_student,
    logged_in_teacher,
    members_of,
    open_socket,
    people_client,
    people_of,
    pin_for,
)
from tests.pictures_support import classroom, make_picture
from tests.pipeline_support import StartPipeline

#: On the kids list: stage 1's word check blocks it before any model is asked.
BLOCKED_PROMPT = "a pistol on the kitchen table"


async def test_a_blocked_prompt_is_in_the_teachers_log_and_its_word_never_reaches_the_student(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", safety_level="kids")
    room = await classroom(server, "Mika")
    mika, class_id = room.students["Mika"], room.klass["id"]
    start = {"type": "run.start", "prompt": BLOCKED_PROMPT, "interception": "bauhaus"}
    _, seen = await socket_answers(mika, server, start)
    done = seen[-1]
    assert (done["type"], done["status"]) == ("run.done", "blocked")
    [entry] = (await get_json(room.teacher, server, f"/api/classes/{class_id}/moderation"))[
        "blocked"
    ]
    assert entry == {
        "run": done["run"],
        "member": entry["member"],
        "nickname": "Mika",
        "created": entry["created"],
        "stage": "safety",
        "prompt": BLOCKED_PROMPT,
        "perspective": "bauhaus",
        "reason": "word list: pistol",
        "flagged": False,
    }
    assert "word list" not in str(seen)  # the student's socket never carried the reason
    for path in ("/api/pictures", "/api/me"):
        async with mika.get(server.make_url(path)) as response:
            assert response.status == 200
            assert "word list" not in await response.text()
    async with mika.get(server.make_url(f"/api/classes/{class_id}/moderation")) as response:
        assert await error_of(response) == (403, "teachers_only")
    await room.close()


async def test_hiding_and_flagging_a_picture_marks_it_and_tells_the_wall(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    class_id = room.klass["id"]
    run, urls = await make_picture(room.students["Mika"], server, "a fox in the snow")
    wall = server.app[CLASSES].wall.subscribe(class_id)
    assert wall is not None
    path = f"/api/classes/{class_id}/pictures"
    hidden = await api_json(room.teacher, server, "PATCH", f"{path}/{run}", {"hidden": True})
    assert (hidden["run"], hidden["files"], hidden["hidden"], hidden["flagged"]) == (
        run,
        urls,
        True,
        False,
    )
    event = await wall.next(timeout=5)
    assert event is not None
    assert (event.kind, event.run) == ("hidden", run)
    [listed] = (await get_json(room.teacher, server, path))["pictures"]
    assert listed == hidden | {"nickname": "Mika", "group": None}
    both = {"hidden": False, "flagged": True}
    shown = await api_json(room.teacher, server, "PATCH", f"{path}/{run}", both)
    assert (shown["hidden"], shown["flagged"]) == (False, True)
    kinds = [(await wall.next(timeout=5)), (await wall.next(timeout=5))]
    assert [(e.kind, e.run) for e in kinds if e is not None] == [("shown", run), ("flagged", run)]
    for body, status in (({}, 400), ({"pinned": True}, 400)):
        async with await api_send(room.teacher, server, "PATCH", f"{path}/{run}", body) as r:
            assert await error_of(r) == (status, "invalid_field")
    async with await api_send(
        room.teacher, server, "PATCH", f"{path}/r-nosuchrun", {"hidden": True}
    ) as response:
        assert await error_of(response) == (404, "not_found")
    server.app[CLASSES].wall.unsubscribe(wall)
    await room.close()


async def test_a_locked_nickname_is_closed_out_and_refused_even_with_a_pin_until_unlocked(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    class_id, code = room.klass["id"], room.klass["code"]
    [member] = await members_of(room.teacher, server, class_id)
    ws, welcome = await open_socket(room.students["Mika"], server)
    assert welcome["type"] == "welcome"
    pin = await pin_for(room.teacher, server, class_id, "Mika")
    base = f"/api/classes/{class_id}/members/{member['id']}"
    locked = await api_json(room.teacher, server, "POST", f"{base}/lock")
    assert locked == {"id": member["id"], "nickname": "Mika", "locked": True}
    closing = await ws.receive(timeout=5)
    assert (closing.type, ws.close_code) == (WSMsgType.CLOSE, 4016)
    assert [m["locked"] for m in await members_of(room.teacher, server, class_id)] == [True]
    async with people_client() as again:
        body = {"code": code, "nickname": "Mika", "pin": pin}
        async with await api_send(again, server, "POST", "/api/join", body) as response:
            assert await error_of(response) == (403, "nickname_locked")
    console, _ = await open_socket(room.teacher, server)
    await console.send_json({"type": "class.watch", "class_id": class_id})
    assert (await next_of(console, "class.state"))["class_id"] == class_id
    unlocked = await api_json(room.teacher, server, "POST", f"{base}/unlock")
    assert unlocked["locked"] is False
    # Nothing else changed in the class: the fresh snapshot is the unlock's.
    assert (await next_of(console, "class.state"))["class_id"] == class_id
    await console.close()
    back = await joined_student(server, code, "Mika", pin)
    await back.close()
    await room.close()


CALLS = [
    ("GET", "/moderation", None),
    ("GET", "/pictures", None),
    ("PATCH", "/pictures/{run}", {"hidden": True}),
    ("POST", "/members/{member}/lock", None),
    ("POST", "/members/{member}/unlock", None),
]


async def test_the_log_and_the_pictures_keep_to_the_classs_own_retention(
    start_pipeline: StartPipeline,
) -> None:
    server = await start_pipeline(access="codes", retention_hours=72)
    room = await classroom(server, "Mika")
    class_id = room.klass["id"]
    rules = {"rules": {"retention_hours": 1}}
    await api_json(room.teacher, server, "PATCH", f"/api/classes/{class_id}", rules)
    [member] = await members_of(room.teacher, server, class_id)
    now = time.time()
    for run, hours_ago in (("r-2hoursago", 2), ("r-justnow00", 0)):
        for status, files in (("blocked", []), ("completed", ["a.png"])):
            row = PictureRow(
                f"{run}{status[0]}",
                f"m-{member['id']}",
                class_id,
                now - hours_ago * 3600,
                "a cat",
                "bauhaus",
                files,
                status=status,
            )
            assert await people_of(server).add_picture(row)
    base = f"/api/classes/{class_id}"
    blocked = (await get_json(room.teacher, server, f"{base}/moderation"))["blocked"]
    assert [b["run"] for b in blocked] == ["r-justnow00b"]  # 2 hours old: past the class's 1
    pictures = (await get_json(room.teacher, server, f"{base}/pictures"))["pictures"]
    assert [p["run"] for p in pictures] == ["r-justnow00c"]
    await room.close()


async def test_only_the_classs_teacher_may_moderate(start_pipeline: StartPipeline) -> None:
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    run, _ = await make_picture(room.students["Mika"], server, "a fox")
    [member] = await members_of(room.teacher, server, room.klass["id"])
    other = await logged_in_teacher(server, "mr-other")
    nobody = people_client()
    refusals = [
        (other, (404, "not_found")),
        (room.students["Mika"], (403, "teachers_only")),
        (nobody, (401, "join_required")),
    ]
    for method, tail, body in CALLS:
        path = f"/api/classes/{room.klass['id']}" + tail.format(run=run, member=member["id"])
        for http, refused in refusals:
            async with await api_send(http, server, method, path, body) as response:
                assert await error_of(response) == refused, (method, path)
    pictures = f"/api/classes/{room.klass['id']}/pictures"
    [picture] = (await get_json(room.teacher, server, pictures))["pictures"]
    assert picture["hidden"] is False  # nothing any of them sent changed it
    members = await members_of(room.teacher, server, room.klass["id"])
    assert [m["locked"] for m in members] == [False]
    for http in (other, nobody):
        await http.close()
    await room.close()


async def test_a_teacher_reaches_another_of_their_classes_only_by_its_own_path(
    start_pipeline: StartPipeline,
) -> None:
    """The same teacher's two classes: class A's path with class B's member or picture is 404
    (own_member and the class's picture check the class, not only the teacher)."""
    server = await start_pipeline(access="codes")
    room = await classroom(server, "Mika")
    second = await create_class(room.teacher, server, "5c")
    noah = await joined_student(server, second["code"], "Noah")
    run, _ = await make_picture(noah, server, "a boat")
    [member] = await members_of(room.teacher, server, second["id"])
    first = f"/api/classes/{room.klass['id']}"
    for method, tail, body in CALLS[2:]:
        path = first + tail.format(run=run, member=member["id"])
        async with await api_send(room.teacher, server, method, path, body) as response:
            assert await error_of(response) == (404, "not_found"), (method, path)
    pictures = await get_json(room.teacher, server, f"/api/classes/{second['id']}/pictures")
    assert [p["hidden"] for p in pictures["pictures"]] == [False]
    assert [m["locked"] for m in await members_of(room.teacher, server, second["id"])] == [False]
    await noah.close()
    await room.close()
