"""Shared pytest fixtures: small synthetic datasets in the host libraries' on-disk formats.

Each set is generated once per session (a second or so) into a temporary folder. The
``*_set`` fixtures return the generator's :class:`~mnv3_plugin.testing.FixtureSet` (root,
classes, label ids, counts); the ``*_root`` fixtures just the root, for ``data_root=...``.
"""
import pytest
import torch

from mnv3_plugin.testing import make_cityscapes, make_coco, make_imagenet

# Sizes the tests assume; small enough that loading every image stays cheap.
IMAGENET_KW = dict(num_train=32, num_val=16, size=(64, 64), seed=0)
COCO_KW = dict(num_train=8, num_val=4, size=(128, 128), seed=0)
CITYSCAPES_KW = dict(num_train=8, num_val=4, size=(128, 256), seed=0)


@pytest.fixture(scope='session')
def imagenet_set(tmp_path_factory):
    return make_imagenet(tmp_path_factory.mktemp('imagenet'), **IMAGENET_KW)


@pytest.fixture(scope='session')
def coco_set(tmp_path_factory):
    return make_coco(tmp_path_factory.mktemp('coco'), **COCO_KW)


@pytest.fixture(scope='session')
def cityscapes_set(tmp_path_factory):
    return make_cityscapes(tmp_path_factory.mktemp('cityscapes'), **CITYSCAPES_KW)


@pytest.fixture(scope='session')
def imagenet_root(imagenet_set):
    return imagenet_set.root


@pytest.fixture(scope='session')
def coco_root(coco_set):
    return coco_set.root


@pytest.fixture(scope='session')
def cityscapes_root(cityscapes_set):
    return cityscapes_set.root


@pytest.fixture(scope='module')
def one_thread():
    """One torch thread for a module's tests: on 2 shared cores, two threads per op
    oversubscribe badly. Modules use it with ``pytestmark = pytest.mark.usefixtures(...)``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope='session')
def search_fixture(tmp_path_factory):
    """The search tests' V3-Small (Table 2) on fixture ImageNet at 32x32: ``(FixtureSet,
    config path)``, the config written by ``mnv3_plugin.search.fixture`` (read-only: tests
    write their checkpoints and work dirs elsewhere)."""
    from pathlib import Path

    from mnv3_plugin.search.fixture import write_fixture_config
    tmp = tmp_path_factory.mktemp('search_fixture')
    data = make_imagenet(tmp / 'imagenet', num_train=40, num_val=8, size=(32, 32), seed=3)
    small = (Path(__file__).resolve().parents[1] / 'configs' / 'classification'
             / 'v3small_w100_r224_imagenet.py')
    cfg_path = write_fixture_config(tmp / 'v3small_fixture.py', small, data.root, data.classes,
                                    batch_size=8)
    return data, cfg_path
