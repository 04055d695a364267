"""Saving, loading and ONNX export of scikit-learn estimators (``--save-model``).

- ``model.skops``: the fitted estimator in skops's format, which stores objects as data and
  never unpickles code. Loading trusts only types from scikit-learn, NumPy and SciPy and from
  the module that registered the model (such as ``architectures.svm.DecisionSoftmax``); a file
  naming any other type is refused, with the types listed.
- ``model.onnx``: skl2onnx's conversion with ``zipmap`` off (a plain probabilities tensor),
  input ``float32 [batch, features]`` as the model's preprocessing gives. Estimators or
  pipeline steps without a skl2onnx converter (a wrapper of our own, such as
  ``DecisionSoftmax``) say so in the record.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.models.portable import NotConvertible, OnnxExport, SavedFiles

SKOPS_FILE = "model.skops"
TRUSTED_PACKAGES = ("sklearn", "numpy", "scipy", "builtins", "collections")


def save_sklearn(estimator: Any) -> SavedFiles:
    """The fitted estimator in skops's format."""
    import skops.io

    return SavedFiles(
        format="skops",
        files={SKOPS_FILE: skops.io.dumps(estimator)},
        loads_with="skops.io.load(path, trusted=[...]) trusting scikit-learn, NumPy, SciPy and "
        "the registering module's types only",
    )


def trusted_types(content: bytes, builder: Any) -> list[str]:
    """The types in a skops file that this project trusts; raise ``ValueError`` naming any
    other."""
    import skops.io

    own = getattr(builder, "__module__", "") or ""
    names = skops.io.get_untrusted_types(data=content)
    foreign = [
        name
        for name in names
        if name.split(".")[0] not in TRUSTED_PACKAGES and not (own and name.startswith(own + "."))
    ]
    if foreign:
        raise ValueError(
            f"{SKOPS_FILE} names types outside scikit-learn, NumPy, SciPy and the model's own "
            f"module ({own}): {', '.join(foreign)}; not loaded"
        )
    return names


def load_sklearn(files: dict[str, bytes], builder: Any) -> Any:
    """The estimator of a skops file, trusting only the types :func:`trusted_types` allows."""
    import skops.io

    content = files[SKOPS_FILE]
    return skops.io.loads(content, trusted=trusted_types(content, builder))


def export_sklearn_onnx(estimator: Any, features: int) -> OnnxExport:
    """The estimator as ONNX through skl2onnx (zipmap off), or :class:`NotConvertible` why."""
    import skl2onnx
    from skl2onnx.common.data_types import FloatTensorType

    try:
        proto = skl2onnx.convert_sklearn(
            estimator,
            initial_types=[("input", FloatTensorType([None, features]))],
            options={id(estimator): {"zipmap": False}},
        )
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise NotConvertible(
            f"skl2onnx cannot convert {describe(estimator)}: {type(error).__name__}: {first}"
        ) from None
    outputs = [output.name for output in proto.graph.output]
    if "probabilities" not in outputs:
        raise NotConvertible(f"skl2onnx gave no probabilities output (outputs: {outputs})")
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    return OnnxExport(
        proto.SerializeToString(), "probabilities", f"skl2onnx {skl2onnx.__version__}", opset
    )


def describe(estimator: Any) -> str:
    """The estimator's class and, for a wrapper or pipeline, what it holds."""
    name = f"{type(estimator).__module__}.{type(estimator).__name__}"
    inner = getattr(estimator, "estimator", None)
    steps = getattr(estimator, "steps", None) or getattr(inner, "steps", None)
    if steps:
        return f"{name} (steps: {', '.join(type(step).__name__ for _, step in steps)})"
    return name


def feature_count(input_shape: tuple[int, ...]) -> int:
    """Features per row for an estimator fed rows of ``input_shape``."""
    return int(np.prod(input_shape))
