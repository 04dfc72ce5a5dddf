"""LogView on its own: following, pausing, the ring buffer, search, wrap and
what it does to hostile text. Lines are appended directly (the screen's
stream is tested in test_pod_logs.py)."""

from __future__ import annotations

from rich.style import Style
from textual.app import App, ComposeResult

from widgets.log_view import LogView, LogViewState, clean_line


class LogApp(App[None]):
    def __init__(self, **options: object) -> None:
        super().__init__()
        self.options = options
        self.states: list[LogViewState] = []

    def compose(self) -> ComposeResult:
        yield LogView(**self.options)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one(LogView).focus()

    def on_log_view_state_changed(self, event: LogView.StateChanged) -> None:
        self.states.append(event.state)


def numbered(start: int, stop: int, text: str = "line") -> list[str]:
    return [f"{text} {i}" for i in range(start, stop)]


def rows(log: LogView) -> list[str]:
    """The text of every row on screen, as drawn."""
    return [log.render_line(y).text.rstrip() for y in range(log.scrollable_content_region.height)]


def shown(log: LogView) -> list[str]:
    return [row for row in rows(log) if row]


# -- text that must not drive the terminal -------------------------------------


def test_clean_line_removes_escapes_and_controls() -> None:
    assert clean_line("plain text") == "plain text"
    assert clean_line("\x1b[31;1mred\x1b[0m and \x1b[2Jcleared") == "red and cleared"
    assert clean_line("\x1b]0;pwned title\x07after") == "after"
    assert clean_line("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "link"
    assert clean_line("a\x1bPq#0;2;0;0;0\x1b\\b") == "ab"
    assert clean_line("bell\x07 back\x08space\r") == "bell backspace"
    assert clean_line("\x9b31mc1\x9b0m") == "c1"
    assert clean_line("a\tb") == "a       b"
    assert clean_line("abc\u202edcba") == "abcdcba"
    assert clean_line("bad \udc80 byte") == "bad \ufffd byte"


async def test_ansi_and_markup_arrive_as_plain_text() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(["\x1b[32mINFO\x1b[0m started", "[bold red]not markup[/]", "two\nlines\n"])
        await pilot.pause()
        assert log.lines == ("INFO started", "[bold red]not markup[/]", "two", "lines")
        assert shown(log) == list(log.lines)


async def test_a_huge_line_is_cut_and_says_so() -> None:
    app = LogApp(max_line_chars=100)
    async with app.run_test(size=(60, 10)):
        log = app.query_one(LogView)
        log.append_lines(["x" * 150])
        assert log.lines == ("x" * 100 + " … [50 more characters]",)


# -- following and pausing ---------------------------------------------------------


async def test_following_keeps_the_newest_line_in_view() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        for start in range(0, 200, 25):
            log.append_lines(numbered(start, start + 25))
            await pilot.pause()
            assert shown(log)[-1] == f"line {start + 24}"
        assert log.following
        assert log.scroll_offset.y == log.max_scroll_y


async def test_paused_view_stays_put_and_counts_new_lines() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(numbered(0, 100))
        await pilot.pause()
        log.set_follow(False)
        before = rows(log)
        log.append_lines(numbered(100, 130))
        log.append_lines(numbered(130, 140))
        await pilot.pause()
        assert rows(log) == before
        assert log.state.new_lines == 40
        assert app.states[-1].new_lines == 40 and not app.states[-1].following
        log.set_follow(True)
        await pilot.pause()
        assert shown(log)[-1] == "line 139"
        assert log.state.new_lines == 0


async def test_scrolling_up_pauses_and_end_follows_again() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(numbered(0, 100))
        await pilot.pause()
        await pilot.press("pageup")
        assert not log.following
        top = rows(log)[0]
        log.append_lines(numbered(100, 120))
        await pilot.pause()
        assert rows(log)[0] == top
        await pilot.press("end")
        assert log.following
        assert shown(log)[-1] == "line 119"


async def test_a_short_log_fills_in_while_paused() -> None:
    app = LogApp(follow=False)
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(numbered(0, 3))
        await pilot.pause()
        log.append_lines(numbered(3, 5))
        await pilot.pause()
        assert shown(log) == numbered(0, 5)


# -- the ring buffer -------------------------------------------------------------------


async def test_the_buffer_stays_at_max_lines_and_reports_what_it_dropped() -> None:
    app = LogApp(max_lines=100)
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        for start in range(0, 1000, 37):
            log.append_lines(numbered(start, min(start + 37, 1000)))
        await pilot.pause()
        assert log.line_count == 100
        assert log.lines[0] == "line 900" and log.lines[-1] == "line 999"
        assert log.state.dropped == 900 and log.state.received == 1000
        assert app.states[-1].dropped == 900
        log.scroll_to_top()
        await pilot.pause()
        assert rows(log)[:2] == ["… 900 earlier lines dropped (keeping the last 100)", "line 900"]
        assert not log.following


async def test_a_batch_larger_than_the_buffer_keeps_its_tail() -> None:
    app = LogApp(max_lines=10)
    async with app.run_test(size=(60, 12)):
        log = app.query_one(LogView)
        log.append_lines(numbered(0, 5))
        log.append_lines(numbered(5, 30))
        assert log.lines == tuple(numbered(20, 30))
        assert log.dropped == 20


async def test_paused_reading_keeps_its_line_while_older_lines_drop() -> None:
    app = LogApp(max_lines=100)
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(numbered(0, 100))
        await pilot.pause()
        log.set_follow(False)
        log.scroll_to(y=50, animate=False)
        await pilot.pause()
        assert rows(log)[0] == "line 50"
        log.append_lines(numbered(100, 120))
        await pilot.pause()
        assert rows(log)[0] == "line 50"  # 20 lines fell off the front; the view did not move
        assert log.dropped == 20
        log.append_lines(numbered(120, 180))  # now line 50 itself is gone: the oldest held is shown
        await pilot.pause()
        assert rows(log)[:2] == ["… 80 earlier lines dropped (keeping the last 100)", "line 80"]


# -- search ------------------------------------------------------------------------------


def styled(log: LogView, y: int, style: Style) -> list[str]:
    """Texts of row `y` drawn in `style` (the match highlight)."""
    return [seg.text for seg in log.render_line(y) if seg.style and seg.style.bgcolor == style.bgcolor]


async def test_search_highlights_every_visible_match_in_any_case() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(["ok", "an ERROR here and an error there", "fine", "Error: again"])
        assert log.search("error") == 2
        await pilot.pause()
        match = log.get_component_rich_style("log-view--match")
        texts = rows(log)
        assert styled(log, texts.index("an ERROR here and an error there"), match) == ["ERROR", "error"]
        assert styled(log, texts.index("Error: again"), match) == ["Error"]
        assert styled(log, texts.index("fine"), match) == []
        assert app.states[-1].query == "error" and app.states[-1].matches == 2


async def test_n_and_shift_n_move_between_matches_and_mark_the_current_line() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(LogView)
        log.append_lines([f"request {i} {'timeout' if i % 50 == 7 else 'ok'}" for i in range(300)])
        await pilot.pause()
        assert log.search("TIMEOUT") == 6
        assert log.next_match(forward=False)  # from the bottom of the view: the newest
        assert log.state.match_line == 258  # line 257, 1-based
        assert not log.following
        assert log.next_match(forward=False)
        assert log.state.match_line == 208
        await pilot.pause()
        assert "request 207 timeout" in rows(log)
        current = log.get_component_rich_style("log-view--current")
        y = rows(log).index("request 207 timeout")
        assert all(seg.style and current.bgcolor == seg.style.bgcolor for seg in log.render_line(y)
                   if seg.text.strip() and seg.text != "timeout")
        assert log.next_match()
        assert log.state.match_line == 258
        assert log.next_match()  # past the last one: wraps to the first
        assert log.state.match_line == 8
        await pilot.pause()
        assert "request 7 timeout" in rows(log)


async def test_search_without_a_match_and_clearing_it() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 12)):
        log = app.query_one(LogView)
        log.append_lines(numbered(0, 10))
        assert log.search("nothing") == 0
        assert not log.next_match()
        assert log.search("") == 0
        assert log.state.query == "" and log.state.match_line is None


async def test_match_count_follows_lines_in_and_out_of_the_buffer() -> None:
    app = LogApp(max_lines=10)
    async with app.run_test(size=(60, 12)):
        log = app.query_one(LogView)
        log.append_lines(["hit"] * 5 + ["miss"] * 5)
        assert log.search("hit") == 5
        log.append_lines(["miss"] * 3 + ["hit"])
        assert log.state.matches == 2  # four old hits pushed out, one new came in


# -- wrap ------------------------------------------------------------------------------


async def test_wrap_folds_long_lines_and_unwrapped_they_scroll_sideways() -> None:
    app = LogApp()
    async with app.run_test(size=(41, 12)) as pilot:  # 40 columns of text, 1 of scrollbar
        log = app.query_one(LogView)
        long = "".join(chr(ord("a") + i % 26) for i in range(100))
        log.append_lines(["short", long, "end"])
        await pilot.pause()
        assert shown(log) == ["short", long[:40], "end"]
        assert log.virtual_size.height == 3
        log.toggle_wrap()
        await pilot.pause()
        assert log.wrap
        assert shown(log) == ["short", long[:40], long[40:80], long[80:], "end"]
        assert log.virtual_size.height == 5
        log.append_lines([long])
        await pilot.pause()
        assert shown(log)[-3:] == [long[:40], long[40:80], long[80:]]
        log.toggle_wrap()
        await pilot.pause()  # the horizontal scrollbar comes back with the layout
        log.scroll_to(x=60, animate=False)
        await pilot.pause()
        assert rows(log)[1] == long[60:100]


async def test_wrap_counts_wide_characters_by_cells() -> None:
    app = LogApp(wrap=True)
    async with app.run_test(size=(11, 8)) as pilot:  # 10 cells of text
        log = app.query_one(LogView)
        log.append_lines(["日本語のログ行です"])  # 9 characters, 18 cells
        await pilot.pause()
        assert shown(log) == ["日本語のロ", "グ行です"]


async def test_the_first_long_line_does_not_hide_the_newest_behind_a_scrollbar() -> None:
    app = LogApp()
    async with app.run_test(size=(41, 12)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(numbered(0, 30))
        await pilot.pause()
        log.append_lines(["y" * 100, "newest"])  # the horizontal scrollbar appears with this batch
        await pilot.pause()
        assert log.scrollable_content_region.height == 11
        assert shown(log)[-1] == "newest"


async def test_credentials_in_a_log_are_masked_as_they_arrive_and_cannot_be_searched() -> None:
    app = LogApp()
    async with app.run_test(size=(100, 10)) as pilot:
        log = app.query_one(LogView)
        log.append_lines(["connecting to postgres://app:hunter2pw@db-1:5432/shop",
                          "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl",
                          "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"])
        await pilot.pause()
        text = "\n".join(shown(log))
        assert "postgres://app:***@db-1:5432/shop" in text
        for secret in ("hunter2pw", "eyJhbGciOiJIUzI1NiJ9", "wJalrXUtnFEMI"):
            assert secret not in text
        log.search("hunter2pw")
        await pilot.pause()
        assert app.states[-1].matches == 0
