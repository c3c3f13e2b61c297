"""Browser end-to-end of the game modes: a run mixing every question type (choice, true/false, poll,
numeric, order) with explanations shown, one participant granted double time in the lobby (the QR
code of the join link on screen), played in Chromium to the podium on both screens. Every screen is
saved to test-artifacts/screenshots/ (`modes-*`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_browser_run import SCRIPT_ERRORS, host_signs_in, new_page, participant_joins, shot

pytestmark = pytest.mark.e2e

QUESTION_DURATION_S = 60
MIXED_SET: dict[str, Any] = {
    "name": "Game modes",
    "questions": [
        {
            "category": "geography",
            "text": "Which city is the capital of Australia?",
            "options": ["Sydney", "Canberra", "Perth"],
            "correct": [1],
            "explanation": "Canberra was chosen as a compromise in 1908.",
        },
        {
            "type": "true_false",
            "category": "science",
            "text": "Water boils at 100 °C at sea level.",
            "correct": True,
            "explanation": "At 1 atm, yes.",
        },
        {
            "type": "poll",
            "category": "survey",
            "text": "Which do you drink in the morning?",
            "options": ["Tea", "Coffee", "Water"],
        },
        {
            "type": "numeric",
            "category": "maths",
            "text": "How many metres are there in a mile?",
            "answer": 1609,
            "tolerance": 10,
            "explanation": "1,609.344 m.",
        },
        {
            "type": "order",
            "category": "history",
            "text": "Put these cities in the order they were founded, oldest first.",
            "options": ["Ur", "Rome", "Paris", "Berlin"],
            "explanation": "Ur is Sumerian; Berlin dates from the 13th century.",
        },
    ],
}
QUESTION_COUNT = len(MIXED_SET["questions"])
EXPLANATIONS = [q.get("explanation") for q in MIXED_SET["questions"]]


def put_in_order(page: Page, wanted: list[str]) -> None:
    """Moves the order question's items with their *Move up* buttons until they read `wanted`."""
    for position, item in enumerate(wanted):
        while page.locator("#options .order-text").all_inner_texts().index(item) > position:
            page.get_by_role("button", name=f"Move up {item}", exact=True).click()
    expect(page.locator("#options .order-text")).to_have_text(wanted)


def play_question(page: Page, index: int, *, right: bool) -> None:
    question = MIXED_SET["questions"][index]
    expect(page.locator("#question-progress")).to_have_text(f"Question {index + 1} of {QUESTION_COUNT}")
    expect(page.locator("#question-text")).to_have_text(question["text"])
    kind = question.get("type", "choice")
    if kind == "choice":
        page.get_by_role("button", name="Canberra" if right else "Perth", exact=True).click()
    elif kind == "true_false":
        page.get_by_role("button", name="True" if right else "False", exact=True).click()
    elif kind == "poll":
        page.get_by_role("button", name="Tea" if right else "Coffee", exact=True).click()
    elif kind == "numeric":
        page.get_by_label("Your answer (a number)").fill("1605" if right else "1700")
        page.get_by_role("button", name="Submit answer").click()
    else:
        put_in_order(page, question["options"] if right else list(reversed(question["options"])))
        page.get_by_role("button", name="Submit order").click()
    if index == QUESTION_COUNT - 1:
        # The last answer of the run completes it: the results may replace the feedback at once.
        expect(page.locator("#feedback:visible, #screen-results h1:visible").first).to_be_visible()
        return
    feedback = page.locator("#feedback")
    outcome = "answered" if kind == "poll" else "correct" if right else "incorrect"
    expect(feedback).to_have_attribute("data-outcome", outcome)
    if EXPLANATIONS[index]:
        expect(feedback.locator(".explanation")).to_contain_text(EXPLANATIONS[index])


def test_a_mixed_run_with_extra_time_and_explanations_ends_on_the_podium(
    local_stack: Any, browser: Browser, tmp_path: Path
) -> None:
    SCRIPT_ERRORS.clear()
    host = new_page(browser)
    host_signs_in(host, local_stack)
    upload = tmp_path / "game-modes.json"
    upload.write_text(json.dumps(MIXED_SET), encoding="utf-8")
    host.get_by_label("Question set file").set_input_files(str(upload))
    host.get_by_label("Set name").fill("Game modes")
    host.get_by_role("button", name="Upload", exact=True).click()
    expect(host.locator("#upload-status")).to_contain_text(f"{QUESTION_COUNT} questions")

    host.get_by_label("Run name").fill("Game modes run")
    host.get_by_label("Number of questions").fill(str(QUESTION_COUNT))
    host.get_by_label("Seconds per question").fill(str(QUESTION_DURATION_S))
    host.get_by_label("Show explanations after each answer").check()
    shot(host, "modes-01-host-create-options")
    host.get_by_role("button", name="Create speed-run").click()
    code = host.locator("#join-code")
    expect(code).to_have_text(re.compile(r"^[A-HJ-NP-Z2-9]{6}$"))
    expect(host.get_by_label("QR code for the join link")).to_be_visible()

    ada, bo = new_page(browser), new_page(browser, phone=True)
    participant_joins(ada, local_stack, code.inner_text(), "Ada")
    participant_joins(bo, local_stack, code.inner_text(), "Bo")
    expect(host.locator("#lobby-participants .person")).to_have_count(2)

    # Bo is granted double time before the start: the server sets every deadline of Bo's from it.
    host.get_by_role("button", name="Extra time for Bo").click()
    dialog = host.locator("#extra-time-dialog")
    dialog.locator("input[name=extra-time][value='2']").check()
    dialog.get_by_role("button", name="Set extra time").click()
    expect(host.locator("#lobby-participants")).to_contain_text("2\u00d7 time")
    expect(bo.locator("#extra-time-note")).to_contain_text("2\u00d7")
    shot(host, "modes-02-host-lobby-qr-extra-time")
    shot(bo, "modes-03-participant-lobby-extra-time")

    host.get_by_role("button", name="Start the speed-run").click()
    expect(host.get_by_role("heading", name="Game modes run — live")).to_be_visible()

    for index in range(QUESTION_COUNT):
        for page, name, right in ((ada, "ada", True), (bo, "bo", index % 2 == 0)):
            if index == 0:
                # The window is the server's: 60 s for Ada, 120 s for Bo (what is left of it on screen).
                expect(page.locator("#question-progress")).to_have_text(f"Question 1 of {QUESTION_COUNT}")
                expect(page.locator("#countdown-seconds")).not_to_have_text("0")
                seconds = int(page.locator("#countdown-seconds").inner_text())
                assert (seconds > QUESTION_DURATION_S) == (page is bo), (name, seconds)
            play_question(page, index, right=right)
            if index in (2, 3, 4) and page is ada:
                shot(page, f"modes-0{index + 2}-participant-feedback-{MIXED_SET['questions'][index]['type']}")
            if index < QUESTION_COUNT - 1:
                page.get_by_role("button", name="Next question").click()
        if index == 3:
            shot(bo, "modes-07-participant-order-question-phone")

    for page, name in ((ada, "ada"), (bo, "bo")):
        expect(page.locator("#screen-results")).to_be_visible()
        expect(page.locator("#results-podium .podium-place")).to_have_count(2)
        shot(page, f"modes-08-participant-podium-{name}")
    podium = host.locator("#results-podium")
    expect(podium.locator(".podium-place")).to_have_count(2)
    expect(podium.locator(".podium-place[data-place='1']")).to_contain_text("Ada")
    shot(host, "modes-09-host-results-podium")
    assert SCRIPT_ERRORS == []
