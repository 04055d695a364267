"""What the Keras MNIST tutorial article printed, kept as data for the Replication section.

These are facts about the article, copied once from its logged output: the validation
accuracy after each of its 9 epochs (``fit(epochs=10, initial_epoch=1)``, the test set used
as validation data) and the diagonal of its final confusion matrix on the 10,000 MNIST test
images (correct answers per digit 0..9). The report puts our runs of the preset
``article_cnn:tutorial`` beside them; nothing else should retype these numbers.
"""

from __future__ import annotations

ARTICLE_MODEL = "article_cnn"
ARTICLE_DATASET = "mnist"
ARTICLE_VAL_ACCURACY = (0.5802, 0.7990, 0.8677, 0.8904, 0.9078, 0.9185, 0.9288, 0.9350, 0.9416)
"""Validation accuracy logged after epochs 1..9 (validation set = the MNIST test set)."""

ARTICLE_CONFUSION_DIAGONAL = (968, 1113, 941, 951, 930, 813, 928, 938, 902, 932)
"""Correctly classified test images per digit 0..9 in the article's final confusion matrix."""

ARTICLE_SOURCE = "the Keras MNIST tutorial article (its logged training output)"
