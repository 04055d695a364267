"""The safe reader, the safe writer and the name sanitiser (bench.core.safe_io, bench.core.names):
unit cases for each refusal, and Hypothesis over arbitrary bytes, depths, sizes and unicode."""

from __future__ import annotations

import json
import os
import re
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.core.errors import BenchError
from bench.core.names import FILE_NAME_LIMIT, NAME_LIMIT, name_problem, run_id_problem, safe_name
from bench.core.safe_io import (
    MAX_DEPTH,
    UnsafeFile,
    check_output_path,
    json_depth,
    read_bytes,
    read_json,
    read_toml,
    write_output,
)

SAFE = re.compile(r"[A-Za-z0-9._-]+")
FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def nested(depth: int) -> str:
    """JSON text of ``depth`` nested lists: ``[[[]]]`` for 3."""
    return "[" * depth + "]" * depth


# --- reading ---------------------------------------------------------------------------------


def test_a_regular_file_inside_the_folder_is_read(tmp_path):
    (tmp_path / "a.json").write_text('{"x": [1, 2]}')
    assert read_json(tmp_path / "a.json", inside=tmp_path) == {"x": [1, 2]}


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "record.json"
    os.mkfifo(fifo)
    outcome: dict[str, BaseException] = {}

    def read() -> None:
        try:
            read_json(fifo, inside=tmp_path)
        except BaseException as error:  # handed to the test thread
            outcome["error"] = error

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome["error"], UnsafeFile)
    assert "is a FIFO (named pipe), not a regular file" in str(outcome["error"])


def test_a_link_to_a_device_is_refused_before_reading(tmp_path):
    link = tmp_path / "record.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(UnsafeFile, match="is a character device, not a regular file"):
        read_bytes(link, limit=100)


def test_a_link_leaving_the_folder_is_refused_and_one_inside_it_is_followed(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "escape.json").symlink_to(outside)
    (folder / "real.json").write_text("[1]")
    (folder / "alias.json").symlink_to(folder / "real.json")
    with pytest.raises(UnsafeFile, match=f"is a link to {re.escape(str(outside))}, outside"):
        read_json(folder / "escape.json", inside=folder)
    assert read_json(folder / "alias.json", inside=folder) == [1]


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 101)
    with pytest.raises(UnsafeFile, match="is 101 bytes, more than the 100 allowed"):
        read_bytes(path, limit=100)
    assert read_bytes(path, limit=101) == b" " * 101


def test_bytes_that_are_not_utf8_are_named_with_their_offset(tmp_path):
    path = tmp_path / "record.json"
    path.write_bytes(b'{"a":"caf\xe9"}')
    with pytest.raises(UnsafeFile) as caught:
        read_json(path)
    assert str(caught.value) == f"{path}: is not UTF-8 text (byte 0xe9 at offset 9)"


def test_200k_levels_of_json_are_refused_without_a_recursion_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(nested(200_000))
    with pytest.raises(UnsafeFile, match=f"nests deeper than {MAX_DEPTH} levels"):
        read_json(path)


def test_deep_toml_is_refused(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text("a = " + nested(100_000) + "\n")
    with pytest.raises(UnsafeFile, match="nests deeper than|is not valid TOML"):
        read_toml(path)
    path.write_text("a = " + nested(MAX_DEPTH + 1) + "\n")
    with pytest.raises(UnsafeFile, match=f"nests deeper than {MAX_DEPTH} levels"):
        read_toml(path)


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURE_OK)
@given(content=st.binary(max_size=300))
def test_any_bytes_give_a_value_or_an_unsafe_file_error(tmp_path, content):
    path = tmp_path / "record.json"
    path.write_bytes(content)
    for read in (read_json, read_toml):
        try:
            read(path, inside=tmp_path)
        except UnsafeFile as error:
            assert str(error).startswith(f"{path}: ")


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE_OK)
@given(depth=st.integers(0, 3000), mapping=st.booleans())
def test_any_depth_is_read_up_to_the_bound_and_refused_past_it(tmp_path, depth, mapping):
    opening, closing = ('{"k":', "}") if mapping else ("[", "]")
    text = opening * depth + "1" + closing * depth
    path = tmp_path / "deep.json"
    path.write_text(text)
    if depth <= MAX_DEPTH:
        read_json(path)
    else:
        with pytest.raises(UnsafeFile, match="nests deeper than"):
            read_json(path)


@settings(max_examples=100, deadline=None, suppress_health_check=FIXTURE_OK)
@given(size=st.integers(0, 5000), limit=st.integers(0, 5000))
def test_any_size_is_read_up_to_the_cap_and_refused_past_it(tmp_path, size, limit):
    path = tmp_path / "blob"
    path.write_bytes(b"x" * size)
    if size <= limit:
        assert len(read_bytes(path, limit=limit)) == size
    else:
        with pytest.raises(UnsafeFile, match="more than the"):
            read_bytes(path, limit=limit)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


def depth_of(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_the_depth_measured_on_the_text_is_the_depth_of_the_value(value):
    """Brackets inside strings (escaped quotes included) do not count."""
    assert json_depth(json.dumps(value)) == depth_of(value)


# --- writing ---------------------------------------------------------------------------------


def test_a_fifo_link_device_or_folder_at_the_output_is_refused_and_left_alone(tmp_path):
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    link = tmp_path / "link.csv"
    link.symlink_to("/dev/full")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    for path, kind in ((fifo, "a FIFO"), (link, "a symbolic link"), (folder, "a folder")):
        with pytest.raises(BenchError, match=f"is {kind}"):
            write_output(path, b"x")
    assert fifo.is_fifo() and link.is_symlink() and folder.is_dir()


def test_missing_parents_are_refused_unless_asked_for(tmp_path):
    target = tmp_path / "a" / "b" / "x.csv"
    with pytest.raises(BenchError, match="does not exist; create it first, or add --parents"):
        write_output(target, b"x")
    assert not (tmp_path / "a").exists()
    assert write_output(target, b"x", parents=True).read_bytes() == b"x"


def test_a_parent_that_is_a_file_is_refused_even_for_root(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(BenchError, match="is not a folder"):
        check_output_path(tmp_path / "file" / "x.csv", parents=True)


def test_a_regular_file_is_replaced(tmp_path):
    target = tmp_path / "x.csv"
    target.write_text("old")
    write_output(target, b"new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"], "no probe or temporary left"


# --- names -----------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode_becomes_a_safe_bounded_name_and_only_safe_names_pass(text):
    name = safe_name(text)
    assert SAFE.fullmatch(name) and not name.startswith(".")
    assert len(name) <= NAME_LIMIT
    assert safe_name(name) == name, "a safe name stays as it is"
    assert (name_problem(text) is None) == (name == text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_different_names_never_share_a_safe_name(first, second):
    if first != second:
        assert safe_name(first) != safe_name(second)


def test_escaping_and_overlong_names_are_named_as_such():
    assert "holds characters a file name may not have here ('/')" in name_problem(
        "../../../ESCAPED"
    )
    assert name_problem("..") == (
        "starts with a dot (a hidden file, or a way up to the folder above) "
        f"(a name that would do: {safe_name('..')!r})"
    )
    assert name_problem("m" * 300).startswith("is 300 characters long, more than the 64 allowed")
    assert safe_name("m" * 300) in name_problem("m" * 300), "the refusal suggests a name"
    assert run_id_problem("digits--cnn_fast.default@jax--seed0--0123456789") is None
    assert "more than the 200 allowed" in run_id_problem("x" * (FILE_NAME_LIMIT + 1))
