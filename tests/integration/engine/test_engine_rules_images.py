"""Question images through the engine: the `question` push carries its image URLs, a participant's
`state` and everyone's `started` carry the run's image list for prefetching, and nothing about them
says which option is correct."""

from __future__ import annotations

import json
from dataclasses import replace

from speedrun.engine.frames import IMAGE_LIST_BUDGET_BYTES, image_list
from speedrun.engine.models import FrozenQuestion
from speedrun.manifest import image_url
from tests.support.engine_harness import EngineWorld, make_questions
from tests.support.engine_rules import frames_of, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)
from tests.support.protocol_messages import validate_server_frame


def _key(n: int) -> str:
    return f"{n:064x}.png"


def _illustrated() -> list[FrozenQuestion]:
    """Question 0 with an image, question 1 with option images (one option without), question 2 plain;
    question 1 reuses question 0's image on an option."""
    plain = make_questions(3)
    return [
        replace(plain[0], image=_key(1)),
        replace(plain[1], option_images=[_key(2), None, _key(1), _key(3)]),
        plain[2],
    ]


def test_the_question_push_carries_image_urls_and_a_plain_question_carries_none(world: EngineWorld) -> None:
    _run_id, _host, (player, _other) = start_run(world, questions=_illustrated())
    first = world.send(player, "question", index=0)
    assert first["image"] == image_url(_key(1)) == "/images/" + _key(1)
    assert "option_images" not in first
    world.send(player, "answer", index=0, selected=[0])
    second = world.send(player, "question", index=1)
    assert "image" not in second
    assert second["option_images"] == [image_url(_key(2)), None, image_url(_key(1)), image_url(_key(3))]
    world.send(player, "answer", index=1, selected=[1])
    third = world.send(player, "question", index=2)
    assert "image" not in third and "option_images" not in third
    for frame in (first, second, third):
        validate_server_frame(frame)  # the frame models allow the image fields, as URLs only


def test_the_run_image_list_comes_with_state_in_the_lobby_and_with_started(world: EngineWorld) -> None:
    _run_id, code, host = world.create(_illustrated())
    player = world.join(code, "Early")
    expected = [image_url(_key(1)), image_url(_key(2)), image_url(_key(3))]  # first use order, each once
    lobby_state = world.send(player, "sync")
    assert (lobby_state["type"], lobby_state["status"]) == ("state", "lobby")
    assert lobby_state["images"] == expected
    assert "images" not in world.send(host, "sync")  # the host's screen shows no questions
    started = world.send(host, "start")
    assert started["images"] == expected
    validate_server_frame(started)
    validate_server_frame(lobby_state)
    assert [frame["images"] for frame in frames_of(world, player, "started")] == [expected]
    world.send(player, "question", index=0)
    assert world.send(player, "sync")["current_question"]["image"] == image_url(_key(1))


def test_a_run_without_images_has_an_empty_list(world: EngineWorld) -> None:
    _run_id, _host, (player, _other) = start_run(world, questions=2)
    assert world.send(player, "sync")["images"] == []


def test_the_image_list_says_nothing_about_the_answer(world: EngineWorld) -> None:
    """Same images, different correct options: the same list and the same pushes."""
    runs = []
    for correct in ([0], [3]):
        questions = [replace(_illustrated()[1], index=0, correct=correct)]
        _run_id, _host, (player, _other) = start_run(world, questions=questions)
        pushed = world.send(player, "question", index=0)
        runs.append((world.send(player, "sync")["images"], pushed["option_images"]))
    assert runs[0] == runs[1]


def test_a_long_image_list_is_cut_to_its_budget_in_order_of_first_use() -> None:
    questions = [{"image": _key(n), "option_images": None} for n in range(1000)]
    urls = image_list(questions)
    assert len(json.dumps(urls, separators=(",", ":"))) <= IMAGE_LIST_BUDGET_BYTES
    assert 250 < len(urls) < 1000
    assert urls == [image_url(_key(n)) for n in range(len(urls))]
