"""The native PyTorch family: torch_cnn trained through the trainer, FLOPs, failures, devices."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the PyTorch family needs torch (README: extras)")

from bench.cli import main  # noqa: E402
from bench.measure.flops import count_flops  # noqa: E402
from bench.measure.torch_flops import count_torch_flops  # noqa: E402
from bench.models.family import make_adapter  # noqa: E402
from bench.models.preprocess import images_channel_first  # noqa: E402
from bench.models.registry import REGISTRY, get_model, register_model  # noqa: E402
from bench.run.selection import build_runs  # noqa: E402
from bench.run.trainer import checks_per_epoch, execute_run  # noqa: E402

# The history entry fields every family records (the Keras adapter's, first epoch included).
EPOCH_FIELDS = {
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "seconds",
    "train_seconds",
    "val_seconds",
    "elapsed_train_seconds",
    "elapsed_seconds",
}
FIRST_EPOCH_FIELDS = {"setup_seconds", "first_step_seconds", "first_step_samples"}


@pytest.fixture
def mnist_env(mnist_mirror, bench_home, monkeypatch):
    monkeypatch.setenv("MNIST_BENCH_MIRROR", str(mnist_mirror))
    return mnist_mirror


def test_torch_cnn_is_cnn_fasts_twin_in_size_and_flops():
    torch_spec, keras_spec = get_model("torch_cnn"), get_model("cnn_fast")
    twin = make_adapter(torch_spec, dict(torch_spec.config), (1, 28, 28), 10)
    original = make_adapter(keras_spec, dict(keras_spec.config), (28, 28, 1), 10)
    assert twin.parameter_count() == original.parameter_count() == 284_650
    # Same convention, counted from PyTorch's modules by hooks and from Keras's layers.
    assert twin.flop_count().forward == count_flops(original.model).forward
    assert twin.flop_count().uncounted == ()
    # 8x8 digits keep their size through Keras's "same" padding, as cnn_fast's do.
    small = make_adapter(torch_spec, dict(torch_spec.config), (1, 8, 8), 10)
    keras_small = make_adapter(keras_spec, dict(keras_spec.config), (8, 8, 1), 10)
    assert small.parameter_count() == keras_small.parameter_count()


def test_torch_fast_is_torch_cnn_with_batch_norm_in_channels_last_layout():
    spec, twin = get_model("torch_fast"), get_model("torch_cnn")
    fast = make_adapter(spec, dict(spec.config), (1, 28, 28), 10)
    plain = make_adapter(twin, dict(twin.config), (1, 28, 28), 10)
    norms = [m for m in fast.model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [n.num_features for n in norms] == [32, 64]
    # The two convolutions lose their biases (96) to the normalizations' shifts; each
    # normalization adds a scale and a shift per channel and two running statistics.
    assert fast.parameter_count() == plain.parameter_count() - 96 + 4 * 96
    # Counted FLOPs: the biases (1 per convolution output) are gone; the normalizations scale
    # and shift (2 per value) the first block's pooled values and the second convolution's
    # outputs.
    first_outputs, pooled, second_outputs = 12 * 12 * 32, 6 * 6 * 32, 4 * 4 * 64
    expected = plain.flop_count().forward - first_outputs + 2 * pooled + second_outputs
    assert fast.flop_count().forward == expected
    first_block = list(fast.model[0])[:4]
    assert [type(m).__name__ for m in first_block] == ["Conv2d", "MaxPool2d", "BatchNorm2d", "ReLU"]
    for adapter in (fast, plain):
        conv = next(m for m in adapter.model.modules() if isinstance(m, torch.nn.Conv2d))
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize(("model", "same"), [("torch_cnn", True), ("torch_fast", False)])
def test_pooling_first_is_the_same_training_without_normalization_only(model, same):
    """ReLU and max pooling commute: torch_cnn trains to the same weights, bit for bit, with
    its pooling before or after the ReLU; torch_fast's normalization sees other values."""
    spec = get_model(model)
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.random((64, 1, 28, 28), dtype=np.float32))
    y = torch.as_tensor(rng.integers(0, 10, 64))
    weights = []
    for pool_first in (True, False):
        config = {**spec.config, "pool_first": pool_first}
        torch.manual_seed(0)
        network = spec.build(config, (1, 28, 28), 10)
        optimizer, _ = spec.optimizer(config, network.parameters(), 4)
        for step in range(4):
            optimizer.zero_grad()
            batch = slice(16 * step, 16 * (step + 1))
            spec.loss(config)(network(x[batch]), y[batch]).backward()
            optimizer.step()
        weights.append([p.detach().clone() for p in network.parameters()])
    identical = all(torch.equal(a, b) for a, b in zip(*weights, strict=True))
    assert identical is same


def test_torch_fast_learns_digits_and_predicts_with_its_running_statistics(bench_home):
    """One epoch on scikit-learn's 8x8 digits; eval mode uses the running statistics, so a
    prediction of one image does not depend on the rest of its batch."""
    from bench.data import load_dataset

    data, spec = load_dataset("digits"), get_model("torch_fast")
    x, y = images_channel_first(data.x_train), data.y_train
    x_test, y_test = images_channel_first(data.x_test), data.y_test
    adapter = make_adapter(spec, {**spec.config, "epochs": 3, "batch_size": 32}, x.shape[1:], 10)
    fit = adapter.fit(x, y, x_test, y_test, checks_per_epoch=1)
    assert fit.failure is None
    proba = adapter.predict_proba(x_test)
    assert np.mean(proba.argmax(axis=1) == y_test) > 0.9
    np.testing.assert_allclose(adapter.predict_one(x_test[:1]), proba[:1], rtol=1e-4, atol=1e-6)


def test_bfloat16_preset_runs_forward_passes_in_bfloat16_and_probes_that_peak(bench_home):
    """torch_fast:bf16 through the trainer on digits: its logits come from bfloat16 forward
    passes (the probabilities differ from float32's, by little), its weights stay float32,
    and the record carries the bfloat16 matmul peak beside the float32 one."""
    run = build_runs(["torch_fast:bf16"], ["digits"], [0], ["epochs=3", "batch_size=32"])[0]
    assert run.config["precision"] == "mixed_bfloat16"
    record = execute_run(run)
    assert record.ok, record.error
    assert record.accuracy > 0.85
    assert "bfloat16" in record.timings["method"]
    assert record.environment["matmul_peak_bfloat16"]["dtype"] == "bfloat16"
    assert record.environment["matmul_peak"]["dtype"] == "float32"

    spec = get_model("torch_fast")
    x = images_channel_first(np.random.default_rng(0).random((16, 28, 28), dtype=np.float32))
    mixed = make_adapter(spec, {**spec.config, "precision": "mixed_bfloat16"}, x.shape[1:], 10)
    plain = make_adapter(spec, {**spec.config, "precision": "float32"}, x.shape[1:], 10)
    plain.model.load_state_dict(mixed.model.state_dict())
    low, full = mixed.predict_proba(x), plain.predict_proba(x)
    assert all(p.dtype == torch.float32 for p in mixed.model.parameters())
    assert not np.array_equal(low, full)
    np.testing.assert_allclose(low, full, atol=0.05)


def test_weight_average_moves_towards_the_live_weights_with_a_warm_up():
    """The average starts as a copy, then takes (1 - d) of the way to the live weights with
    d = min(decay, (1 + n) / (10 + n)); batch-norm statistics are averaged alike, counters
    copied; the copy is frozen and in eval mode."""
    from bench.models.families._torch_average import WeightAverage

    live = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    average = WeightAverage(live, decay=0.5)
    assert not average.model.training
    assert not any(p.requires_grad for p in average.model.parameters())
    start = live[0].weight.detach().clone()
    expected = start.clone()
    for n, value in enumerate((1.0, -2.0, 4.0)):
        with torch.no_grad():
            live[0].weight.fill_(value)
            live[1].running_mean.fill_(value)
        live[1].num_batches_tracked += 1
        average.update()
        rate = 1 - min(0.5, (1 + n) / (10 + n))
        expected = expected + rate * (value - expected)
    torch.testing.assert_close(average.model[0].weight, expected)
    assert not torch.equal(average.model[0].weight, live[0].weight)
    mean = torch.zeros(2)
    for n, value in enumerate((1.0, -2.0, 4.0)):
        mean = mean + (1 - min(0.5, (1 + n) / (10 + n))) * (value - mean)
    torch.testing.assert_close(average.model[1].running_mean, mean)
    assert int(average.model[1].num_batches_tracked) == 3


def test_ema_decay_validates_and_predicts_with_the_weight_average(bench_home):
    """With ema_decay the adapter updates the average after every step and every prediction
    (validation checks, test set, one image) comes from it, not from the live weights."""
    from bench.data import load_dataset

    data, spec = load_dataset("digits"), get_model("torch_fast")
    x, y = images_channel_first(data.x_train), data.y_train
    x_test, y_test = images_channel_first(data.x_test), data.y_test
    config = {**spec.config, "epochs": 3, "batch_size": 32, "ema_decay": 0.9}
    adapter = make_adapter(spec, config, x.shape[1:], 10)
    fit = adapter.fit(x, y, x_test, y_test, checks_per_epoch=1)
    assert fit.failure is None
    assert adapter.average.updates == 3 * -(-len(x) // 32)
    proba = adapter.predict_proba(x_test)
    assert np.mean(proba.argmax(axis=1) == y_test) > 0.9
    assert fit.checks[-1]["val_accuracy"] == np.mean(proba.argmax(axis=1) == y_test)
    with torch.inference_mode():
        tensor = torch.as_tensor(x_test)
        averaged = torch.softmax(adapter.average.model(tensor), dim=1).numpy()
        live = torch.softmax(adapter.model.eval()(tensor), dim=1).numpy()
    np.testing.assert_allclose(proba, averaged, rtol=1e-5, atol=1e-6)
    assert not np.allclose(proba, live, atol=1e-4)
    np.testing.assert_allclose(adapter.predict_one(x_test[:1]), proba[:1], rtol=1e-4, atol=1e-6)
    assert "moving average" in adapter.inference_method
    assert make_adapter(spec, dict(spec.config), x.shape[1:], 10).average is None


def test_ema_decay_outside_its_range_is_refused(tmp_path, capsys):
    argv = ["run", "--model", "torch_cnn", "--dataset", "digits", "--set", "ema_decay=1.5"]
    assert main([*argv, "--results-dir", str(tmp_path)]) == 2
    assert "ema_decay=1.5 is above its maximum 0.9999" in capsys.readouterr().err


def test_flop_rules_for_torch_modules():
    nn = torch.nn
    assert count_torch_flops(nn.Linear(784, 10), (784,)).forward == 2 * 784 * 10 + 10
    conv = count_torch_flops(nn.Conv2d(3, 8, 3, bias=False), (3, 10, 10))
    assert conv.forward == 2 * (8 * 8) * (8 * 3 * 3 * 3)
    normed = count_torch_flops(nn.Sequential(nn.Conv2d(1, 4, 1), nn.BatchNorm2d(4)), (1, 5, 5))
    assert normed.forward == (2 * 25 * 4 + 100) + 2 * 100
    upsample = count_torch_flops(nn.ConvTranspose2d(2, 2, 2), (2, 3, 3))
    assert upsample.forward == 0 and upsample.uncounted == ("ConvTranspose2d (ConvTranspose2d)",)


def test_torch_cnn_trains_through_the_trainer_on_mnist(mnist_env):
    """One epoch on 5,000 real MNIST images: far above chance, every field recorded."""
    run = build_runs(["torch_cnn"], ["mnist"], [0], limit_train=5000, limit_test=2000)[0]
    record = execute_run(run)
    assert record.ok, record.error
    assert record.accuracy > 0.9, "cnn_fast's recipe on 5,000 images reaches over 90%"
    assert record.parameters == 284_650
    assert record.flops["forward_per_sample"] == get_flops_of_cnn_fast()
    (epoch,) = record.history
    assert set(epoch) == EPOCH_FIELDS | FIRST_EPOCH_FIELDS
    assert epoch["first_step_samples"] == 128
    assert 0 < epoch["first_step_seconds"] < epoch["train_seconds"]
    assert epoch["val_accuracy"] == record.checks[-1]["val_accuracy"]
    # one check per 5,000 training images: under 5,000 here, so the epoch's end alone
    assert len(record.checks) == checks_per_epoch(record.n_train) == 1
    assert record.checks[-1]["epoch_fraction"] == 1.0
    framework = record.environment["framework"]
    assert framework["torch"] == torch.__version__
    assert framework["device"] == "cpu" and framework["num_threads"] == torch.get_num_threads()
    assert record.environment["matmul_peak"]["method"].startswith("best of 10 warm torch.matmul")
    assert record.timings["latency"]["n"] == 500
    assert "inference_mode" in record.timings["method"]
    assert record.config["device"] == "cpu"


def get_flops_of_cnn_fast() -> int:
    spec = get_model("cnn_fast")
    return count_flops(make_adapter(spec, dict(spec.config), (28, 28, 1), 10).model).forward


def _fit_losses(seed: int) -> list[float]:
    """Training losses of torch_cnn on digits, seeded as the trainer seeds a run."""
    from bench.core.randomness import RunRandom
    from bench.data import load_dataset
    from bench.models.families._torch import TorchAdapter

    data, spec = load_dataset("digits"), get_model("torch_cnn")
    x, y = images_channel_first(data.x_train), data.y_train
    TorchAdapter.seed_framework(seed, deterministic=False)
    rng = RunRandom.from_seed(seed)
    adapter = TorchAdapter(spec, {**spec.config, "epochs": 2}, x.shape[1:], 10, rng)
    fit = adapter.fit(x, y, x[:100], y[:100], checks_per_epoch=1)
    return [epoch.loss for epoch in fit.history]


def test_same_seed_same_training_other_seed_other_training(bench_home):
    first, again, other = _fit_losses(0), _fit_losses(0), _fit_losses(1)
    assert first == again
    assert first != other
    assert len(first) == 2 and first[1] < first[0]


@pytest.fixture
def nan_torch_model():
    def sgd(config, parameters, steps_per_epoch):
        return torch.optim.SGD(parameters, lr=0.1)

    @register_model(
        family="torch",
        preprocess=images_channel_first,
        config={"epochs": 3, "batch_size": 64},
        optimizer=sgd,
    )
    def nan_torch(config, input_shape, num_classes):
        """Outputs NaN logits."""
        linear = torch.nn.Linear(int(np.prod(input_shape)), num_classes)
        return torch.nn.Sequential(torch.nn.Flatten(), linear, Poison())

    yield "nan_torch"
    REGISTRY.remove("nan_torch")


class Poison(torch.nn.Module):
    def forward(self, x):
        return x * float("nan")


def test_a_non_finite_loss_fails_the_run_after_its_epoch(nan_torch_model, bench_home):
    record = execute_run(build_runs([nan_torch_model], ["digits"], [0])[0])
    assert record.status == "failed"
    assert "training loss became nan in epoch 1" in record.error.message
    assert len(record.history) == 1, "training stops after the first non-finite epoch"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_is_refused_before_training(tmp_path, capsys):
    argv = ["run", "--model", "torch_cnn", "--dataset", "digits", "--set", "device=cuda"]
    assert main([*argv, "--results-dir", str(tmp_path), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "nothing was trained" in err
    assert "PyTorch sees no CUDA GPU" in err and "--set device=cpu" in err
    assert not list((tmp_path / "runs").glob("*/record.json"))


def test_device_takes_only_cpu_or_cuda(tmp_path, capsys):
    argv = ["run", "--model", "torch_cnn", "--dataset", "digits", "--set", "device=tpu"]
    assert main([*argv, "--results-dir", str(tmp_path)]) == 2
    assert "device='tpu' is not one of 'cpu', 'cuda'" in capsys.readouterr().err
