"""Model families for mnist-bench: one file per family, each registering its models.

How to add a model
------------------
Write a function that builds it and decorate it with :func:`bench.models.registry.register_model`;
the function's name becomes the model's name. The decorator says

* ``family``: ``"keras"`` (return an *uncompiled* ``keras.Model``) or ``"sklearn"`` (return an
  unfitted estimator with ``fit`` and ``predict_proba``);
* ``preprocess``: how raw ``(N, H, W)`` uint8 images become the model's input
  (see :mod:`bench.models.preprocess`);
* ``config``: every training setting with its default; the trainer reads ``epochs`` and
  ``batch_size`` for Keras models, anything else is yours to use in the builder or optimizer;
* ``presets``: named overrides such as ``{"quick": {"epochs": 1}}``;
* Keras only: ``optimizer(config, steps_per_epoch)`` and optionally ``loss(config)``.

Import TensorFlow/Keras inside the functions, never at module level: ``bench list`` and
``bench --help`` import these files and should stay fast. Put a new built-in file's module
name in ``bench.models.registry.BUILTIN_MODULES``; a third-party package instead declares an entry
point in the group ``mnist_bench.architectures`` naming its module.
"""
