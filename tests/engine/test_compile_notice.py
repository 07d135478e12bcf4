"""The one-line notice while a new table shape compiles, and silence otherwise."""

from __future__ import annotations

import time

import pytest

import synthbio_ppl as sb
from synthbio_ppl.engine import compile_notice as notice


@pytest.fixture(autouse=True)
def _notices_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBIO_COMPILE_NOTICE", "on")  # the suite silences them


def test_a_wait_past_the_threshold_gets_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with notice.compile_notice("the thing", after_s=0.0):
        time.sleep(0.2)
    assert capsys.readouterr().err == "synthbio: compiling the thing (slow only the first time)\n"


def test_a_short_wait_and_a_silenced_one_print_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with notice.compile_notice("the thing", after_s=5.0):
        time.sleep(0.01)
    monkeypatch.setenv("SYNTHBIO_COMPILE_NOTICE", "off")
    with notice.compile_notice("the thing", after_s=0.0):
        time.sleep(0.2)
    assert capsys.readouterr().err == ""


def test_a_new_kind_of_block_says_so_and_the_same_table_again_does_not(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notice, "NOTICE_AFTER_S", 0.0)  # whatever the machine's speed
    spec = {
        "seed": 1,
        # six classes and a laplace family: a lane program no other test compiles
        "classes": [{"name": f"c{k}", "n": 7} for k in range(6)],
        "informative": [{"n": 3, "effect_size": 1.0, "distribution": "laplace"}],
    }
    sb.generate(spec)
    err = capsys.readouterr().err
    assert "synthbio: compiling the row sampler for a new kind of block" in err
    sb.generate(spec, seed=2)  # new numbers, same shape: the compiled programs serve
    spec["informative"][0]["effect_size"] = 2.0
    sb.generate(spec)
    assert capsys.readouterr().err == ""


def test_silenced_and_the_clis_quiet_print_no_notice(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from synthbio_ppl.cli.app import main

    with notice.silenced(), notice.compile_notice("the thing", after_s=0.0):
        time.sleep(0.2)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(notice, "NOTICE_AFTER_S", 0.0)
    spec = tmp_path / "s.yaml"
    spec.write_text("classes: [{name: a, n: 9}, {name: b, n: 9}]\nnoise: [{n: 1331}]\n")
    assert main(["generate", str(spec), "--out", str(tmp_path / "d"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    assert notice.notices_on()  # silenced for that command only


def test_a_notice_is_one_whole_line_whoever_else_writes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import threading

    def compile_for(name: str) -> None:
        with notice.compile_notice(name, after_s=0.0):
            time.sleep(0.2)
            sys.stderr.write("[bar frame]")

    threads = [threading.Thread(target=compile_for, args=(f"job{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    err = capsys.readouterr().err
    for i in range(2):
        assert f"synthbio: compiling job{i} (slow only the first time)\n" in err
    monkeypatch.setattr(sys, "stderr", None)  # closed (2>&-): nothing, and not on stdout
    with notice.compile_notice("the thing", after_s=0.0):
        time.sleep(0.2)
    assert capsys.readouterr().out == ""


def test_silenced_holds_for_its_own_thread_only(capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    def other() -> None:
        with notice.compile_notice("the other thread's", after_s=0.0):
            time.sleep(0.2)

    with notice.silenced():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert "the other thread's" in capsys.readouterr().err
