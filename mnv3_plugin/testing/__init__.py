"""Test helpers: deterministic tiny datasets in the host libraries' on-disk formats, and configs
that run on them."""
from .configs import fixture_classifier_config
from .fixtures import (CITYSCAPES_CITIES, CITYSCAPES_TRAIN_IDS, GENERATORS, IGNORE_INDEX,
                       SHAPE_CLASSES, SHAPE_COLOURS, SHAPE_KINDS, SHAPE_SPECS, FixtureSet,
                       make_cityscapes, make_coco, make_imagenet, shape_classes)

__all__ = [
    'CITYSCAPES_CITIES', 'CITYSCAPES_TRAIN_IDS', 'GENERATORS', 'IGNORE_INDEX', 'SHAPE_CLASSES',
    'SHAPE_COLOURS', 'SHAPE_KINDS', 'SHAPE_SPECS', 'FixtureSet', 'fixture_classifier_config',
    'make_cityscapes', 'make_coco', 'make_imagenet', 'shape_classes'
]
