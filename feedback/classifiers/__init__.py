"""The triage classifier: plain Python (no Django), importable and testable on its own.

    model = TriageModel().fit(load_seed())
    model.predict(["苹果烂了一半"], products=["水果"])  # -> [Prediction(label="damaged", ...)]

Versions live in a ModelStore; train_version() trains, measures and promotes one.
The Django side (feedback.classification) is the only bridge to tickets.
"""
from .active import review_batch, review_density, review_margin, review_order
from .evaluation import THRESHOLD_GRID, classification_metrics, evaluate_model, format_confusion, format_metrics, threshold_curve
from .model import Prediction, TrainingConfig, TriageModel
from .seed import LabelledDataError, LabelledExample, load_seed, parse_labelled_lines, read_labelled_jsonl
from .store import LoadedModel, ModelLoadError, ModelStore, UnknownVersionError
from .text import mask_phone_numbers, normalize, prepare
from .training import TrainingResult, holdout_split, train_version

__all__ = [
    "LabelledDataError",
    "LabelledExample",
    "THRESHOLD_GRID",
    "LoadedModel",
    "ModelLoadError",
    "ModelStore",
    "Prediction",
    "TrainingConfig",
    "TrainingResult",
    "TriageModel",
    "UnknownVersionError",
    "classification_metrics",
    "evaluate_model",
    "format_confusion",
    "format_metrics",
    "holdout_split",
    "load_seed",
    "mask_phone_numbers",
    "normalize",
    "parse_labelled_lines",
    "prepare",
    "read_labelled_jsonl",
    "review_batch",
    "review_density",
    "review_margin",
    "review_order",
    "threshold_curve",
    "train_version",
]
