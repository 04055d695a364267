"""Model families for mnist-bench: one file per family, each registering its models.

How to add a model
------------------
Write a function that builds it and decorate it with :func:`bench.models.registry.register_model`;
the function's name becomes the model's name. The decorator says

* ``family``: ``"keras"`` (return an *uncompiled* ``keras.Model``; it runs on any Keras 3
  backend, ``--backend``), ``"torch"`` (return a ``torch.nn.Module`` producing logits; the
  harness runs the training loop, see ``torch_cnn.py``) or ``"sklearn"`` (return an unfitted
  estimator with ``fit`` and ``predict_proba``);
* ``preprocess``: how raw ``(N, H, W)`` uint8 images become the model's input
  (see :mod:`bench.models.preprocess`);
* ``config``: every training setting with its default; the trainer reads ``epochs`` and
  ``batch_size`` for Keras models, anything else is yours to use in the builder or optimizer;
* ``presets``: named overrides such as ``{"quick": {"epochs": 1}}``;
* Keras: ``optimizer(config, steps_per_epoch)`` and optionally ``loss(config)``;
* PyTorch: ``optimizer(config, parameters, steps_per_epoch)`` returning an optimizer or
  ``(optimizer, scheduler)`` (stepped every batch), and optionally ``loss(config)`` returning
  ``loss_fn(logits, integer_labels)``.

Optional declarations: ``tuning`` (how the defaults were chosen, shown in the leaderboard),
``deterministic=True`` (the same predictions for every seed: the model runs once),
``reference=PublishedReference(...)`` (a published result to check ours against),
``min_image_size`` (checked before any training), ``robustness_subset`` (slow models: score
that many images of each corrupted test set). A config value given as
``Param(default, minimum=..., choices=...)`` also declares its allowed range.

Import TensorFlow/Keras/PyTorch inside the functions, never at module level: ``bench list``
and ``bench --help`` import these files and should stay fast. Every module of this package is
imported when the registry is first read, so a new file here is all a new built-in model
needs; a third-party package instead declares an entry point in the group
``mnist_bench.architectures`` naming its module, and a file of your own can be named with
``--models-from FILE.py``.
"""
