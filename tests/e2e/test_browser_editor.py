"""Browser end-to-end: a host writes a question set in the editor, with an image, and runs it; a
participant's page fetches the run's images in the lobby and shows the question's image.

Against the local stack (tests/e2e/conftest.py) in the system Chromium, as test_browser_run.py: the
host builds a 3-question set (the image chosen with the drop zone's file input), saves it once with a
question that has no correct answer (the server's problem is shown at that question and in the
summary), fixes it by keyboard, reorders by the move buttons, previews a question as a participant
sees it, saves (a new set), edits and saves again (its next version), duplicates the set and deletes
the copy (the page asks first), reopens the set in the editor, opens a run from it, and a phone-sized
participant sees the image. A second test writes a numeric question (answer and tolerance) and an
order question (items moved into the correct order), saves and reopens them. Screenshots go to
test-artifacts/screenshots/ (the editor at 375 px too).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.test_browser_run import (
    SCRIPT_ERRORS,
    host_creates_run,
    host_signs_in,
    new_page,
    participant_joins,
    shot,
)
from tests.support.images import small_png

pytestmark = pytest.mark.e2e

SET_NAME = "Editor e2e set"
PHONE_WIDTH = 375
IMAGE_URL = re.compile(r"^/images/[0-9a-f]{64}\.png$")
"""A stored image's URL: `/images/` and its content-hash key (http-api.md, `POST /api/images`)."""


def field(host: Page, label: str) -> Locator:
    return host.get_by_label(label, exact=True)


def fill_question(host: Page, number: int, *, text: str, options: list[str], category: str | None = None) -> None:
    if category is not None:
        field(host, f"Category of question {number}").fill(category)
    field(host, f"Text of question {number}").fill(text)
    for index, option in enumerate(options):
        if index >= 2:
            host.get_by_role("button", name=f"Add an option to question {number}").click()
            # The new option's field has the focus: typing goes there.
            expect(field(host, f"Question {number}, option {index + 1}")).to_be_focused()
        field(host, f"Question {number}, option {index + 1}").fill(option)


def tick(host: Page, number: int, option: int) -> None:
    field(host, f"Question {number}, option {option} is correct").check()


def wait_until_loaded(page: Page, image: Locator) -> None:
    """The image was fetched and decoded (an image that failed to load has no natural width)."""
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def question_texts(host: Page) -> list[str]:
    return [
        host.locator(f"#editor-questions > li:nth-child({i + 1}) textarea").first.input_value()
        for i in range(host.locator("#editor-questions > li").count())
    ]


def host_writes_a_set(host: Page, tmp_path: Path) -> str:
    """The three questions, saved once broken and once fixed; returns the question image's URL."""
    host.get_by_role("button", name="New question set").click()
    expect(host.get_by_role("heading", name="New question set")).to_be_visible()
    expect(field(host, "Name of the question set")).to_be_focused()
    field(host, "Name of the question set").fill(SET_NAME)

    fill_question(host, 1, category="flags", text="Whose flag is this?", options=["Japan", "France"])
    tick(host, 1, 1)
    image_file = tmp_path / "flag.png"
    image_file.write_bytes(small_png((200, 30, 30), (48, 32)))
    field(host, "Image of question 1 (optional)").set_input_files(str(image_file))
    preview = host.get_by_role("img", name="Image of question 1")
    expect(preview).to_have_attribute("src", IMAGE_URL)
    expect(host.get_by_role("button", name="Remove the image of question 1")).to_be_focused()
    wait_until_loaded(host, preview)  # the uploaded image is served back at its URL
    image_url = preview.get_attribute("src") or ""

    host.get_by_role("button", name="Add question").click()
    # The new question takes the category of the one before it; its text has the focus.
    expect(field(host, "Category of question 2")).to_have_value("flags")
    expect(field(host, "Text of question 2")).to_be_focused()
    fill_question(
        host, 2, category="rivers", text="Which river flows through Vienna?", options=["Rhine", "Danube", "Elbe"]
    )
    # No correct answer ticked: the server refuses it.
    host.get_by_role("button", name="Add question").click()
    fill_question(host, 3, category="science", text="Pick the two noble gases", options=["Neon", "Oxygen", "Argon"])
    tick(host, 3, 1)
    tick(host, 3, 3)
    option_image = tmp_path / "neon.png"
    option_image.write_bytes(small_png((255, 80, 40), (16, 16)))
    field(host, "Image of question 3, option 1 (optional)").set_input_files(str(option_image))
    thumb = host.get_by_role("img", name="Image of question 3, option 1")
    expect(thumb).to_have_attribute("src", IMAGE_URL)
    wait_until_loaded(host, thumb)
    expect(host.locator("#editor-questions > li").nth(2)).to_contain_text("Participants pick 2 answers.")

    host.get_by_role("button", name="Save", exact=True).click()
    summary = host.locator("#editor-problems")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    problem = summary.get_by_role("button", name=re.compile(r"^Question 2, correct answers: "))
    expect(problem).to_have_count(1)
    second = host.locator("#editor-questions > li").nth(1)
    expect(second.locator(".field-problems")).to_contain_text(problem.inner_text().split(": ", 1)[1])
    expect(host.locator("#editor-version")).to_have_text("Not saved yet · unsaved changes")
    shot(host, "30-editor-problems")

    # Keyboard only: the summary line jumps to the field, Tab and Space tick the right answer.
    problem.focus()
    host.keyboard.press("Enter")
    expect(field(host, "Question 2, option 1 is correct")).to_be_focused()
    field(host, "Question 2, option 2 is correct").focus()
    host.keyboard.press("Space")
    expect(field(host, "Question 2, option 2 is correct")).to_be_checked()
    expect(second.locator(".field-problems")).to_have_count(0)
    expect(summary).to_be_hidden()

    # Reordering by the buttons: question 3 up, then down again; the focus stays on the moved question.
    host.get_by_role("button", name="Move question 3 up").click()
    assert question_texts(host) == [
        "Whose flag is this?",
        "Pick the two noble gases",
        "Which river flows through Vienna?",
    ]
    expect(host.get_by_role("button", name="Move question 2 up")).to_be_focused()
    host.keyboard.press("Tab")
    expect(host.get_by_role("button", name="Move question 2 down")).to_be_focused()
    host.keyboard.press("Enter")
    assert question_texts(host) == [
        "Whose flag is this?",
        "Which river flows through Vienna?",
        "Pick the two noble gases",
    ]
    expect(host.get_by_role("button", name="Move question 3 up")).to_be_focused()  # the last one cannot go down

    # The preview is drawn by the participant page's own code.
    host.get_by_role("button", name="Preview question 1").click()
    dialog = host.locator("#editor-preview")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".question-text")).to_have_text("Whose flag is this?")
    expect(dialog.locator(".option .option-text")).to_have_text(["Japan", "France"])
    shown = dialog.get_by_role("img", name="Question image")
    expect(shown).to_have_attribute("src", image_url)
    wait_until_loaded(host, shown)
    shot(host, "31-editor-preview")
    host.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(host.get_by_role("button", name="Preview question 1")).to_be_focused()

    host.get_by_role("button", name="Save", exact=True).click()
    expect(host.locator("#editor-status")).to_have_text(f'Saved "{SET_NAME}": 3 questions, version 1.')
    expect(host.get_by_role("heading", name="Edit question set")).to_be_visible()

    # A change saved again is the set's next version.
    field(host, "Explanation of question 2 (optional)").fill("The Danube flows through four capitals.")
    expect(host.locator("#editor-version")).to_have_text("Version 1 · unsaved changes")
    host.get_by_role("button", name="Save", exact=True).click()
    expect(host.locator("#editor-status")).to_have_text(f'Saved "{SET_NAME}": 3 questions, version 2.')
    expect(host.locator("#editor-version")).to_have_text("Version 2")
    shot(host, "32-editor-saved")

    # At phone width the editor fits: one column, nothing wider than the screen.
    host.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    assert host.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    shot(host, "33-editor-phone")
    host.set_viewport_size({"width": 1280, "height": 900})
    return image_url


def host_duplicates_and_deletes(host: Page) -> None:
    rows = host.locator("#sets-body tr")
    host.get_by_role("button", name=f"Duplicate {SET_NAME}", exact=True).click()
    copy_name = f"{SET_NAME} (copy)"
    expect(host.locator("#sets-status")).to_have_text(f'Duplicated "{SET_NAME}" as "{copy_name}".')
    expect(rows.filter(has_text=copy_name)).to_have_count(1)

    # Deleting asks in the page first: Cancel keeps the set, Delete set removes it.
    host.get_by_role("button", name=f"Delete {copy_name}", exact=True).click()
    confirm = host.get_by_role("dialog", name="Delete this question set?")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    shot(host, "34-dashboard-delete-confirm")
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(rows.filter(has_text=copy_name)).to_have_count(1)
    host.get_by_role("button", name=f"Delete {copy_name}", exact=True).click()
    confirm.get_by_role("button", name="Delete set").click()
    expect(host.locator("#sets-status")).to_have_text(f'Deleted "{copy_name}".')
    expect(rows.filter(has_text=copy_name)).to_have_count(0)
    expect(host.get_by_role("heading", name="Question sets")).to_be_focused()


def host_reopens_the_set(host: Page, image_url: str) -> None:
    host.get_by_role("button", name=f"Edit {SET_NAME}", exact=True).click()
    expect(host.get_by_role("heading", name="Edit question set")).to_be_visible()
    expect(field(host, "Name of the question set")).to_have_value(SET_NAME)
    expect(host.locator("#editor-questions > li")).to_have_count(3)
    expect(host.get_by_role("img", name="Image of question 1")).to_have_attribute("src", image_url)
    expect(field(host, "Question 2, option 2 is correct")).to_be_checked()
    expect(field(host, "Explanation of question 2 (optional)")).to_have_value("The Danube flows through four capitals.")
    # Leaving with an unsaved change asks first.
    field(host, "Text of question 3").fill("Pick the two noble gases!")
    host.get_by_role("button", name="Back to dashboard").click()
    leave = host.get_by_role("dialog", name="Leave the editor?")
    leave.get_by_role("button", name="Discard changes").click()
    expect(host.get_by_role("heading", name="Your speed-runs")).to_be_visible()


def test_host_writes_a_set_with_an_image_and_a_participant_sees_it(
    local_stack: Any, browser: Browser, tmp_path: Path
) -> None:
    SCRIPT_ERRORS.clear()
    host = new_page(browser)
    host_signs_in(host, local_stack)
    image_url = host_writes_a_set(host, tmp_path)

    host.get_by_role("button", name="Back to dashboard").click()
    saved = host.locator("#sets-body tr", has_text=SET_NAME).first
    expect(saved.locator("td").nth(1)).to_have_text("3")
    expect(saved.locator("td").nth(3)).to_have_text("2")  # the version
    host_duplicates_and_deletes(host)
    host_reopens_the_set(host, image_url)

    host.get_by_role("button", name=f"Create a speed-run from {SET_NAME}", exact=True).click()
    code = host_creates_run(host, "Editor e2e run", question_count=3, question_duration_s=60)

    player = new_page(browser, phone=True)
    player.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    # The lobby's `state` lists the run's images, and the page fetches them before the run starts.
    with player.expect_request(lambda request: request.url.endswith(image_url)):
        participant_joins(player, local_stack, code, "Pia")
    expect(host.locator("#lobby-count")).to_have_text("1")

    host.get_by_role("button", name="Start the speed-run").click()
    expect(player.locator("#question-text")).to_have_text("Whose flag is this?")
    image = player.get_by_role("img", name="Question image")
    expect(image).to_have_attribute("src", image_url)
    wait_until_loaded(player, image)
    assert player.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    shot(player, "35-participant-question-image-phone")
    player.get_by_role("button", name="Japan", exact=True).click()
    expect(player.locator("#feedback")).to_have_attribute("data-outcome", "correct")

    assert SCRIPT_ERRORS == []


TYPED_SET_NAME = "Editor e2e typed set"


def test_host_writes_a_numeric_and_an_order_question(local_stack: Any, browser: Browser) -> None:
    """Each type has its own fields: a numeric answer and tolerance (no options), order items moved by
    their buttons; the server takes the set, and reopening it shows both as written."""
    SCRIPT_ERRORS.clear()
    host = new_page(browser)
    host_signs_in(host, local_stack)
    host.get_by_role("button", name="New question set").click()
    field(host, "Name of the question set").fill(TYPED_SET_NAME)

    field(host, "Category of question 1").fill("numbers")
    field(host, "Type of question 1").select_option("numeric")
    expect(field(host, "Type of question 1")).to_be_focused()
    expect(field(host, "Question 1, option 1")).to_have_count(0)  # a numeric question has no options
    field(host, "Text of question 1").fill("How many legs has a spider?")
    field(host, "Answer of question 1").fill("8")
    field(host, "Tolerance of question 1 (optional)").fill("1")

    host.get_by_role("button", name="Add question").click()
    field(host, "Type of question 2").select_option("order")
    field(host, "Text of question 2").fill("Smallest first")
    for index, item in enumerate(["one", "ten", "five"]):
        field(host, f"Question 2, item {index + 1}").fill(item)
    # The items are the correct order: "ten" goes below "five"; the focus stays on the moved item.
    host.get_by_role("button", name="Move question 2, item 2 down").click()
    expect(host.get_by_role("button", name="Move question 2, item 3 up")).to_be_focused()
    host.get_by_role("button", name="Add an item to question 2").click()
    expect(field(host, "Question 2, item 4")).to_be_focused()
    host.keyboard.type("twenty")
    items = [field(host, f"Question 2, item {number}").input_value() for number in range(1, 5)]
    assert items == ["one", "five", "ten", "twenty"]
    shot(host, "36-editor-numeric-and-order")

    host.get_by_role("button", name="Save", exact=True).click()
    expect(host.locator("#editor-status")).to_have_text(f'Saved "{TYPED_SET_NAME}": 2 questions, version 1.')

    host.get_by_role("button", name="Back to dashboard").click()
    host.get_by_role("button", name=f"Edit {TYPED_SET_NAME}", exact=True).click()
    expect(host.get_by_role("heading", name="Edit question set")).to_be_visible()
    expect(field(host, "Type of question 1")).to_have_value("numeric")
    expect(field(host, "Answer of question 1")).to_have_value("8")
    expect(field(host, "Tolerance of question 1 (optional)")).to_have_value("1")
    expect(field(host, "Type of question 2")).to_have_value("order")
    reopened = [field(host, f"Question 2, item {number}").input_value() for number in range(1, 5)]
    assert reopened == ["one", "five", "ten", "twenty"]
    assert SCRIPT_ERRORS == []
