"""Browser end-to-end: a host and three participants play a whole speed-run in Chromium.

Drives the web client (web/) served by the local stack: the host signs in, uploads a question set
(first a broken one, to see the problems listed), opens a run; participants join by code (after
an unknown code and a taken nickname), answer right and wrong, one reloads mid-question and carries
on; the run completes and the host downloads the results CSV. Every screen is saved to
test-artifacts/screenshots/ for a look.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from speedrun.reporting.csv_export import CSV_COLUMNS

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
STEP_TIMEOUT_MS = 20_000
QUESTION_DURATION_S = 60
"""Long enough that no question times out while the test clicks through four participants."""

QUESTION_SET: dict[str, Any] = {
    "name": "Browser e2e set",
    "questions": [
        {
            "category": "geography",
            "text": "Which city is the capital of Australia?",
            "options": ["Sydney", "Canberra", "Melbourne", "Perth"],
            "correct": [1],
        },
        {
            "category": "science",
            "text": "Which of these are noble gases? (pick two)",
            "options": ["Neon", "Oxygen", "Argon", "Nitrogen"],
            "correct": [0, 2],
        },
        {
            "category": "geography",
            "text": "Which river flows through Vienna?",
            "options": ["Rhine", "Danube", "Elbe"],
            "correct": [1],
        },
        {
            "category": "science",
            "text": "What is the chemical symbol of gold?",
            "options": ["Ag", "Au", "Gd", "Go"],
            "correct": [1],
        },
    ],
}
BROKEN_SET = {"questions": [{"category": "geography", "text": "", "options": ["Only one"], "correct": [3]}]}
QUESTION_COUNT = len(QUESTION_SET["questions"])
JOIN_CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")
"""http-api.md (docs/signon-and-tokens.md, Joining): 6 characters, no 0/O/1/I."""


def correct_texts(index: int) -> list[str]:
    question = QUESTION_SET["questions"][index]
    return [question["options"][option] for option in question["correct"]]


def wrong_texts(index: int) -> list[str]:
    question = QUESTION_SET["questions"][index]
    wrong = [option for option in question["options"] if option not in correct_texts(index)]
    return wrong[: len(question["correct"])]


expect.set_options(timeout=STEP_TIMEOUT_MS)


@dataclass
class Player:
    name: str
    page: Page
    plan: list[bool]
    """Per question: answer right (True) or wrong (False)."""
    keyboard: bool = False
    """Answer with the number keys instead of the mouse."""


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


SCRIPT_ERRORS: list[str] = []
"""Uncaught script errors and Content-Security-Policy violations (the pages carry a strict policy) of
every page: the run must end with none."""


def record_console_error(page: Page, message: ConsoleMessage) -> None:
    if message.type == "error" and "Content Security Policy" in message.text:
        SCRIPT_ERRORS.append(f"{page.url}: {message.text}")


def new_page(browser: Browser, *, phone: bool = False) -> Page:
    """Each page in its own context: its own sessionStorage, like a separate device."""
    if phone:
        context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    else:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.on("pageerror", lambda error: SCRIPT_ERRORS.append(f"{page.url}: {error}"))
    page.on("console", lambda message: record_console_error(page, message))
    return page


def host_signs_in(host: Page, stack: Any) -> None:
    host.goto(f"{stack.base_url}/index.html")
    expect(host.get_by_role("heading", name="Host sign-in")).to_be_visible()
    host.get_by_label("User name").fill(stack.host_username)
    host.get_by_label("Password").fill(stack.host_password)
    host.get_by_role("button", name="Sign in").click()
    expect(host.get_by_role("heading", name="Your speed-runs")).to_be_visible()


def host_uploads_set(host: Page, tmp_path: Path, name: str) -> None:
    good = tmp_path / "browser-e2e-set.json"
    good.write_text(json.dumps(QUESTION_SET), encoding="utf-8")
    host.get_by_label("Question set file").set_input_files(str(good))
    host.get_by_label("Set name").fill(name)
    host.get_by_role("button", name="Upload", exact=True).click()
    expect(host.locator("#upload-status")).to_contain_text(f"{QUESTION_COUNT} questions")
    expect(host.locator("#sets-body tr", has_text=name).first).to_be_visible()
    expect(host.locator("#create-categories input[type=checkbox]")).to_have_count(2)


def host_creates_run(host: Page, name: str, question_count: int, question_duration_s: int) -> str:
    """Fills the create form (the set just uploaded is selected) and returns the lobby's join code."""
    host.get_by_label("Run name").fill(name)
    host.get_by_label("Number of questions").fill(str(question_count))
    host.get_by_label("Seconds per question").fill(str(question_duration_s))
    host.get_by_label("Allow chat").check()
    host.get_by_role("button", name="Create speed-run").click()
    code = host.locator("#join-code")
    expect(code).to_have_text(JOIN_CODE)
    expect(host.locator("#join-link")).to_contain_text(f"play.html?code={code.inner_text()}")
    return code.inner_text()


def host_signs_in_and_opens_run(host: Page, stack: Any, tmp_path: Path) -> str:
    host.goto(f"{stack.base_url}/index.html")
    expect(host.get_by_role("heading", name="Host sign-in")).to_be_visible()
    shot(host, "01-host-signin")
    host.get_by_label("User name").fill(stack.host_username)
    host.get_by_label("Password").fill("not-the-password")
    host.get_by_role("button", name="Sign in").click()
    expect(host.locator("#signin-error")).to_contain_text("Wrong user name or password")
    host_signs_in(host, stack)

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(BROKEN_SET), encoding="utf-8")
    host.get_by_label("Question set file").set_input_files(str(broken))
    host.get_by_role("button", name="Upload", exact=True).click()
    problems = host.locator("#upload-problems li")
    expect(problems.first).to_be_visible()
    assert problems.count() >= 2, "every problem of the broken set is listed, not just the first"
    shot(host, "02-host-upload-problems")

    host_uploads_set(host, tmp_path, "Browser e2e set")
    shot(host, "03-host-dashboard")
    return host_creates_run(host, "Browser e2e run", QUESTION_COUNT, QUESTION_DURATION_S)


def participant_joins(page: Page, stack: Any, code: str, name: str) -> None:
    page.goto(f"{stack.base_url}/play.html?code={code}")
    expect(page.get_by_label("Join code")).to_have_value(code)
    page.get_by_label("Nickname").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("heading", name="You're in!")).to_be_visible()


def answer(player: Player, index: int) -> None:
    page = player.page
    expect(page.locator("#question-progress")).to_have_text(f"Question {index + 1} of {QUESTION_COUNT}")
    expect(page.locator("#question-text")).to_have_text(QUESTION_SET["questions"][index]["text"])
    choices = correct_texts(index) if player.plan[index] else wrong_texts(index)
    for choice in choices:
        if player.keyboard:
            texts = page.locator("#options .option-text").all_inner_texts()
            page.keyboard.press(str(texts.index(choice) + 1))
        else:
            page.get_by_role("button", name=choice, exact=True).click()
    if len(choices) > 1:
        page.get_by_role("button", name="Submit answer").click()
    expected = "correct" if player.plan[index] else "incorrect"
    if index == QUESTION_COUNT - 1:
        # The very last answer of the run completes it, and the results (with this answer) may
        # replace the feedback at once: the final review checks the outcome instead.
        expect(page.locator("#feedback:visible, #screen-results h1:visible").first).to_be_visible()
        return
    expect(page.locator("#feedback")).to_have_attribute("data-outcome", expected)
    expect(page.locator("#feedback")).to_be_visible()


def test_host_and_three_participants_play_a_full_run_in_the_browser(
    local_stack: Any, browser: Browser, tmp_path: Path
) -> None:
    SCRIPT_ERRORS.clear()
    host = new_page(browser)
    code = host_signs_in_and_opens_run(host, local_stack, tmp_path)

    ada = Player("Ada", new_page(browser), plan=[True, True, True, True])
    bo = Player("Bo", new_page(browser, phone=True), plan=[True, False, True, False], keyboard=True)
    cy = Player("Cy", new_page(browser), plan=[False, False, True, False])

    participant_joins(ada.page, local_stack, code, ada.name)

    # Join errors are spelled out: a taken nickname (case-insensitive) and an unknown code.
    bo.page.goto(f"{local_stack.base_url}/play.html?code={code}")
    shot(bo.page, "04-participant-join-phone")
    bo.page.get_by_label("Nickname").fill("ADA")
    bo.page.get_by_role("button", name="Join").click()
    expect(bo.page.locator("#join-error")).to_contain_text("nickname is taken")
    bo.page.get_by_label("Nickname").fill(bo.name)
    bo.page.get_by_role("button", name="Join").click()
    expect(bo.page.get_by_role("heading", name="You're in!")).to_be_visible()
    shot(bo.page, "05-participant-lobby-phone")

    unknown = "".join(reversed(code)) if code != code[::-1] else "ZZZZZZ"
    cy.page.goto(f"{local_stack.base_url}/play.html?code={unknown}")
    cy.page.get_by_label("Nickname").fill(cy.name)
    cy.page.get_by_role("button", name="Join").click()
    expect(cy.page.locator("#join-error")).to_contain_text("No speed-run has that code")
    participant_joins(cy.page, local_stack, code, cy.name)

    expect(host.locator("#lobby-participants .person")).to_have_count(3)
    expect(host.locator("#lobby-count")).to_have_text("3")
    shot(host, "06-host-lobby")

    host.get_by_role("button", name="Start the speed-run").click()
    expect(host.get_by_role("heading", name="Browser e2e run — live")).to_be_visible()

    players = [ada, bo, cy]
    for index in range(QUESTION_COUNT):
        for player in players:
            if player is cy and index == 2:
                # A reload mid-question: the token in sessionStorage reconnects, `sync` brings the
                # same question back (same deadline), and the participant carries on.
                expect(cy.page.locator("#question-progress")).to_have_text(f"Question 3 of {QUESTION_COUNT}")
                cy.page.reload()
                expect(cy.page.locator("#connection")).to_have_text("Live")
                shot(cy.page, "09-participant-after-reload")
            if index == 1 and player is ada:
                shot(ada.page, "07-participant-question")
            if index == 1 and player is bo:
                shot(bo.page, "07-participant-question-phone")
            answer(player, index)
            if index == 0 and player is ada:
                shot(ada.page, "08-participant-feedback")
            if index < QUESTION_COUNT - 1:
                player.page.get_by_role("button", name="Next question").click()
        # The host sees who answered what: one outcome cell per participant for this question.
        for player in players:
            row = host.locator("#answers-body tr", has=host.locator(f"th:text-is('{player.name}')"))
            expect(row.locator("td.cell:not(.pending)")).to_have_count(index + 1)
        if index == 1:
            shot(host, "10-host-live")
            # A host reload keeps the live view: the run (and who answered what) is in sessionStorage.
            host.reload()
            expect(host.get_by_role("heading", name="Browser e2e run — live")).to_be_visible()
            expect(host.locator("#connection")).to_have_text("Live")
            for player in players:
                row = host.locator("#answers-body tr", has=host.locator(f"th:text-is('{player.name}')"))
                expect(row.locator("td.cell:not(.pending)")).to_have_count(2)

    # The last answer completes the run (everyone finished): every participant gets the results.
    for player in players:
        expect(player.page.get_by_role("heading", name="Final results")).to_be_visible()
        expect(player.page.locator("#results-review > li")).to_have_count(QUESTION_COUNT)
    for player in players:
        outcomes = player.page.locator("#results-review > li")
        for index, right in enumerate(player.plan):
            expect(outcomes.nth(index)).to_have_class(f"review-item {'correct' if right else 'incorrect'}")
    shot(bo.page, "11-participant-results-phone")
    shot(cy.page, "12-participant-results")

    expect(host.get_by_role("heading", name="Browser e2e run — results")).to_be_visible()
    ranking = host.locator("#results-body tr")
    expect(ranking).to_have_count(3)
    # 4 correct > 2 correct > 1 correct, whatever the speeds (a correct answer is worth 500..1000).
    assert [ranking.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == ["Ada", "Bo", "Cy"]
    expect(host.locator("#results-chart .chart-row")).to_have_count(QUESTION_COUNT)
    expect(host.locator("#results-chart .chart-row").first.locator(".chart-segment.correct")).to_have_text("2")
    shot(host, "13-host-results")

    with host.expect_download() as download_info:
        host.get_by_role("button", name="Download CSV").click()
    csv_text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(players) * QUESTION_COUNT, "one row per participant per question"
    expect(host.locator("#csv-status")).to_have_text("CSV downloaded.")

    assert SCRIPT_ERRORS == []


def correct_choices_on_screen(page: Page) -> list[str]:
    """The right options for whichever question is shown (the server picks and orders them)."""
    text = page.locator("#question-text").inner_text()
    index = next(i for i, question in enumerate(QUESTION_SET["questions"]) if question["text"] == text)
    return correct_texts(index)


def test_kick_network_drop_timeout_chat_and_early_end_in_the_browser(
    local_stack: Any, browser: Browser, tmp_path: Path
) -> None:
    SCRIPT_ERRORS.clear()
    host = new_page(browser)
    host_signs_in(host, local_stack)
    host_uploads_set(host, tmp_path, "Browser e2e drops")
    # Short questions, so one can run out of time within the test.
    code = host_creates_run(host, "Browser e2e drops", question_count=2, question_duration_s=8)

    dee, eve, fay = (new_page(browser) for _ in range(3))
    for page, name in ((dee, "Dee"), (eve, "Eve"), (fay, "Fay")):
        participant_joins(page, local_stack, code, name)
    expect(host.locator("#lobby-participants .person")).to_have_count(3)

    # Kick: the host confirms; the kicked page's token is refused and it says so.
    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="Remove Fay").click()
    expect(host.locator("#lobby-participants .person")).to_have_count(2)
    expect(fay.locator("#join-error")).to_contain_text("the host removed you")
    expect(fay.get_by_role("heading", name="Join a speed-run")).to_be_visible()
    shot(fay, "20-participant-kicked")

    # Leaving the lobby keeps the run and this tab's host token: the dashboard lists it, and the
    # keyboard reopens it (the `state` reply brings the lobby back).
    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="Leave lobby").click()
    listed = host.locator("#runs-body tr", has_text="Browser e2e drops")
    expect(listed.locator(".run-status")).to_have_text("In the lobby")
    expect(listed.locator("td.code")).to_have_text(code)
    shot(host, "20-host-runs-list")
    host.get_by_role("button", name="Reopen Browser e2e drops").focus()
    host.keyboard.press("Enter")
    expect(host.locator("#lobby-participants .person")).to_have_count(2)

    host.get_by_role("button", name="Start the speed-run").click()
    expect(host.get_by_role("heading", name="Browser e2e drops — live")).to_be_visible()

    # Dee answers the first question right away (and stays on the feedback: question 2 is never served).
    expect(dee.locator("#question-progress")).to_have_text("Question 1 of 2")
    for choice in correct_choices_on_screen(dee):
        dee.get_by_role("button", name=choice, exact=True).click()
    if len(correct_choices_on_screen(dee)) > 1:
        dee.get_by_role("button", name="Submit answer").click()
    expect(dee.locator("#feedback")).to_have_attribute("data-outcome", "correct")

    # Eve loses the network: the page shows it, reconnects when it is back, and the same question returns.
    expect(eve.locator("#question-progress")).to_have_text("Question 1 of 2")
    eve.context.set_offline(True)
    expect(eve.locator("#connection")).not_to_have_text("Live")
    expect(eve.locator("#notice")).to_contain_text("reconnecting")
    shot(eve, "21-participant-offline")
    eve.context.set_offline(False)
    expect(eve.locator("#connection")).to_have_text("Live")
    expect(eve.locator("#question-progress")).to_have_text("Question 1 of 2")

    # Chat (the run allows it): a participant writes to the host.
    eve.get_by_label("To").select_option("host")
    eve.get_by_label("Message", exact=True).fill("my network is flaky")
    eve.get_by_role("button", name="Send").click()
    expect(host.locator("#chat-log li", has_text="my network is flaky")).to_have_count(1)

    # Eve never answers: when her countdown runs out the page gives the question up.
    expect(eve.locator("#feedback")).to_have_attribute("data-outcome", "timeout")
    expect(eve.locator("#feedback")).to_contain_text("Time's up")
    shot(eve, "22-participant-timeout")
    row = host.locator("#answers-body tr", has=host.locator("th:text-is('Eve')"))
    expect(row.locator("td.cell.timeout")).to_have_count(1)

    # The host ends the run early: everyone gets the results.
    host.once("dialog", lambda dialog: dialog.accept())
    host.get_by_role("button", name="End run now").click()
    expect(host.get_by_role("heading", name="Browser e2e drops — results")).to_be_visible()
    expect(host.locator("#results-reason")).to_have_text("You ended the run.")
    expect(host.locator("#results-body tr")).to_have_count(2)
    first_question = host.locator("#results-chart .chart-row").first
    expect(first_question.locator(".chart-segment.correct")).to_have_text("1")
    expect(first_question.locator(".chart-segment.timeout")).to_have_text("1")
    shot(host, "23-host-results-ended")

    for page in (dee, eve):
        expect(page.get_by_role("heading", name="Final results")).to_be_visible()
    expect(dee.locator("#results-review > li")).to_have_count(2)
    expect(dee.locator("#results-review > li").nth(0)).to_have_class("review-item correct")
    expect(dee.locator("#results-review > li").nth(1)).to_have_class("review-item unanswered")
    expect(eve.locator("#results-review > li").nth(0)).to_have_class("review-item timeout")

    # Back on the dashboard the run is listed; once the reporter has persisted it, its results open.
    host.get_by_role("button", name="Back to dashboard").click()
    results = host.get_by_role("button", name="Results of Browser e2e drops")
    for _ in range(40):
        if results.count():
            break
        host.wait_for_timeout(250)
        host.locator("#runs-refresh").click()
    expect(host.locator("#runs-body tr", has_text="Browser e2e drops").locator(".run-status")).to_have_text("Finished")
    results.click()
    expect(host.get_by_role("heading", name="Browser e2e drops — results")).to_be_visible()
    expect(host.locator("#results-body tr")).to_have_count(2)
    expect(host.locator("#results-chart .chart-row")).to_have_count(2)

    assert SCRIPT_ERRORS == []
