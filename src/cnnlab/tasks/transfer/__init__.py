"""Transfer learning after the lecture's four-case guide: backbones and the four strategies."""

from cnnlab.models.torchvision_zoo import TorchvisionClassifier
from cnnlab.models.transferred import TransferModel, block_list
from cnnlab.tasks.transfer.backbones import Backbone, adapt_input, load_backbone
from cnnlab.tasks.transfer.guide import GUIDE, Diagnosis, diagnose
from cnnlab.tasks.transfer.similarity import Similarity, similarity, source_data
from cnnlab.tasks.transfer.strategies import (
    STRATEGIES,
    Transfer,
    TransferResult,
    build_strategy,
    early,
    finetune,
    head,
    retrain,
    select_classes,
)
from cnnlab.tasks.transfer.task import train_transfer

__all__ = [
    "GUIDE",
    "STRATEGIES",
    "Diagnosis",
    "Similarity",
    "diagnose",
    "similarity",
    "source_data",
    "Backbone",
    "TorchvisionClassifier",
    "Transfer",
    "TransferModel",
    "TransferResult",
    "adapt_input",
    "block_list",
    "build_strategy",
    "early",
    "finetune",
    "head",
    "load_backbone",
    "retrain",
    "select_classes",
    "train_transfer",
]
