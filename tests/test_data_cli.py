"""``bench data fetch|info|verify`` through the real argument parser."""

from __future__ import annotations

import pytest

from bench.cli import main


@pytest.fixture
def fetched(mnist_mirror, bench_home, capsys):
    """MNIST fetched from the mirror into ``bench_home``; output captured so far discarded."""
    assert main(["data", "fetch", "--data-dir", str(mnist_mirror)]) == 0
    capsys.readouterr()
    return bench_home / "mnist"


def test_fetch_prints_source_and_cache(mnist_mirror, bench_home, capsys):
    assert main(["data", "fetch", "--data-dir", str(mnist_mirror)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "mnist: 60,000 train + 10,000 test images of 28x28, SHA-256 verified",
        f"source: mirror:{mnist_mirror}",
        f"cache:  {bench_home / 'mnist'}",
    ]


def test_info_shows_shapes_counts_and_checksums(fetched, capsys):
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"source:   cache:{fetched}" in out
    assert "train:    images (60000, 28, 28) uint8, labels (60000,)" in out
    assert "test:     images (10000, 28, 28) uint8, labels (10000,)" in out
    assert "      0  0   5923    980" in out
    assert "      9  9   5949   1009" in out
    assert "train-images-idx3-ubyte    ba891046e6505d7a" in out


def test_verify_passes_then_names_a_damaged_file(fetched, capsys):
    assert main(["data", "verify"]) == 0
    assert "all 5 files verified" in capsys.readouterr().out
    damaged = fetched / "x_test.npy"
    content = bytearray(damaged.read_bytes())
    content[1000] ^= 0x01
    damaged.write_bytes(bytes(content))
    assert main(["data", "verify"]) == 1
    captured = capsys.readouterr()
    assert f"BAD  {damaged}" in captured.out
    assert "checksum mismatch" in captured.out
    assert f"ok   {fetched / 'x_train.npy'}" in captured.out
    assert "1 of 5 files failed" in captured.err


def test_verify_checks_the_mirror_too(fetched, mnist_mirror, capsys):
    assert main(["data", "verify", "--data-dir", str(mnist_mirror)]) == 0
    out = capsys.readouterr().out
    assert f"ok   {mnist_mirror / 'train-images-idx3-ubyte.gz'}" in out
    assert "all 9 files verified" in out


def test_verify_with_nothing_cached(bench_home, capsys):
    assert main(["data", "verify"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing to verify: no cached copy of 'mnist'")
    assert "python -m bench data fetch --dataset mnist" in err


def test_fetch_failure_is_a_message_not_a_traceback(bench_home, capsys):
    assert main(["data", "fetch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: could not load dataset 'mnist' from any source.")
    assert "MNIST_BENCH_MIRROR=/path/to/idx/files" in err
    assert "Traceback" not in err


def test_unknown_dataset(bench_home, capsys):
    assert main(["data", "info", "--dataset", "cifar"]) == 2
    assert "unknown dataset 'cifar'. Known: digits, fashion_mnist, mnist." in (
        capsys.readouterr().err
    )


def test_info_for_digits(capsys):
    assert main(["data", "info", "--dataset", "digits"]) == 0
    out = capsys.readouterr().out
    assert "source:   sklearn" in out
    assert "train:    images (1347, 8, 8) uint8, labels (1347,)" in out


@pytest.mark.parametrize("action", ["fetch", "info", "verify"])
def test_help_has_an_example(action, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["data", action, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--dataset NAME" in out
    assert "--data-dir DIR" in out
    assert "Example: python -m bench data" in out


def test_data_without_action_prints_help(capsys):
    assert main(["data"]) == 2
    assert "fetch" in capsys.readouterr().out
