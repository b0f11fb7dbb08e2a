"""Fixes for upstream bugs of the pinned stack, applied when the host they fix is used.

Each fix patches one function or class of an installed package at run time (installed files are
never edited), names its upstream issue, and has a test in tests/test_compat.py that shows the
failure with the fix disabled. Importing ``mnv3_plugin`` applies the mmengine fixes (mmengine is
used by every host); a fix of another host (mmdet) is applied right after that host's module is
first imported, so a classification-only user never imports mmdet or mmseg. To disable fixes (to
check whether upstream has fixed the bug), set ``MNV3_PLUGIN_DISABLE_FIXES=name1,name2`` (or
``all``) before importing the plugin.

Fixes:
- ``checkpoint_weights_only``: mmengine 0.10.7 calls ``torch.load`` without ``weights_only``;
  torch >= 2.6 defaults to ``weights_only=True``, so ``resume`` and ``load_from`` fail on the
  HistoryBuffer in the message hub state. Upstream: open-mmlab/mmengine#1655, fix in PR #1650
  (unreleased). The fix re-registers mmengine's local-file checkpoint loader with
  ``weights_only=False`` (checkpoints are the user's own files, as before torch 2.6).
- ``dist_cpu_init``: mmengine's launchers call ``torch.cuda.set_device`` unconditionally and
  every default runtime asks for the ``nccl`` backend, so ``--launcher pytorch/slurm`` fails on a
  machine without GPUs ("Found no NVIDIA driver"). The fix skips set_device and uses ``gloo``
  when CUDA is not available. Upstream: mmengine/dist/utils.py, no CPU path (see
  open-mmlab/mmengine#973 for the device handling).
- ``ddp_cpu_module``: mmengine's ``Runner.wrap_model`` always passes ``device_ids=[LOCAL_RANK]``,
  which torch's DDP rejects for a CPU module, and SyncBN raises on CPU tensors. For CPU modules
  the fix drops ``device_ids`` and reverts SyncBN to BN (what mmengine already does for a single
  process).
- ``plugin_config_scope``: mmengine resolves ``_base_ = 'pkg::path'`` only for the packages
  of a hard-coded list (``mmengine.config.utils.MODULE2PACKAGE``), and finds the package's
  ``.mim/configs`` through its distribution's location, which for an editable (PEP 660) install
  or a PYTHONPATH checkout is not the package's folder; it also scopes every dict of such a base
  to the package (``_scope_``), while the plugin's configs are written for their host's scope
  (``default_scope`` of the host runtime they inherit; the plugin's own modules are named
  ``mnv3_plugin.X``). The fix adds ``mnv3_plugin`` to the list, points it at the imported
  package and leaves its configs in their host's scope, so
  ``_base_ = 'mnv3_plugin::segmentation/...'`` works from any install once the plugin is
  imported (the project's tools import it before loading a config). Upstream: the list is not
  extensible (mmengine/config/utils.py).
- ``ssd_head_loss_cls``: mmdet 3.3.0's ``BaseDenseHead._predict_by_feat_single`` reads
  ``self.loss_cls``, which ``SSDHead`` never sets: validation and inference crash with
  "'SSDHead' object has no attribute 'loss_cls'". Upstream: open-mmlab/mmdetection#11780,
  #11305, fix PR #11524 (not merged). The fix sets ``loss_cls = None`` after ``SSDHead.__init__``
  when the head has none (SSD computes its classification loss inline).
- ``strict_checkpoint``: mmengine loads every checkpoint (``load_from``, ``resume``, the test
  tool's, ``init_cfg`` Pretrained) with ``strict=False``: missing and unexpected keys and shape
  mismatches are logged and training or testing goes on with a partly random network (the log of
  open-mmlab/mmdetection#644); a corrupt file ends in a raw UnpicklingError traceback. For models
  with a plugin backbone the fix makes a mismatch an error unless a partial load is asked for,
  and names an unreadable file in one line (:mod:`mnv3_plugin.checkpoint`).
- ``torchao_enum_pytree``: torchao (0.18; NNCF's ``nncf.strip`` and the int8 tools import it)
  registers its ``KernelPreference`` enum with ``torch.utils._pytree.register_constant``
  (``torchao.utils.register_as_pytree_constant``), which torch 2.14 deprecates for Enum
  subclasses (natively supported since): every process that imports torchao logs a warning
  line ("<enum 'KernelPreference'> is an Enum subclass ... deprecated") the user can do nothing
  about, e.g. above each one-line error of tools/deployment/quantize.py. Upstream: torchao's
  ``torchao/utils.py`` against torch's ``torch/utils/_pytree.py``
  (``_private_register_pytree_node``).
  The fix filters that one record of the ``torch.utils._pytree`` logger, for torchao's enums
  only (registration goes on as before); applied on import, since torchao may be imported at
  any time after.
"""
import functools
import importlib.abc
import logging
import os
import os.path as osp
import sys
from typing import Callable, Dict, List

import torch

FIXES: Dict[str, Callable[[], None]] = {}
HOST_OF: Dict[str, str] = {}  # fix name -> the module whose import triggers it
APPLIED: List[str] = []


def _fix(host: str):
    def register(func: Callable[[], None]) -> Callable[[], None]:
        name = func.__name__.lstrip('_')
        FIXES[name], HOST_OF[name] = func, host
        return func
    return register


@_fix('mmengine')
def _checkpoint_weights_only() -> None:
    from mmengine.runner import checkpoint as ckpt

    def load_from_local(filename, map_location):
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(f'{filename} can not be found.')
        return torch.load(filename, map_location=map_location, weights_only=False)

    ckpt.CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    ckpt.load_from_local = load_from_local


@_fix('mmengine')
def _dist_cpu_init() -> None:
    from mmengine.dist import utils as dist_utils

    def cpu_aware(init):
        @functools.wraps(init)
        def wrapper(backend, *args, **kwargs):
            if torch.cuda.is_available():
                return init(backend, *args, **kwargs)
            if backend == 'nccl':
                backend = 'gloo'
            set_device = torch.cuda.set_device
            torch.cuda.set_device = lambda *a, **k: None
            try:
                return init(backend, *args, **kwargs)
            finally:
                torch.cuda.set_device = set_device
        return wrapper

    for name in ('_init_dist_pytorch', '_init_dist_slurm', '_init_dist_mpi'):
        setattr(dist_utils, name, cpu_aware(getattr(dist_utils, name)))


@_fix('mmengine')
def _ddp_cpu_module() -> None:
    from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm

    init = MMDistributedDataParallel.__init__

    @functools.wraps(init)
    def __init__(self, module, *args, **kwargs):
        devices = {p.device.type for p in module.parameters()}
        if devices == {'cpu'}:
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
            module = revert_sync_batchnorm(module)
        init(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = __init__


@_fix('mmengine')
def _plugin_config_scope() -> None:
    from mmengine.config import config as config_module
    from mmengine.config import utils as config_utils
    package_dir = osp.dirname(osp.abspath(__file__))
    config_utils.MODULE2PACKAGE.setdefault('mnv3_plugin', 'mnv3_plugin')
    get_installed_path = config_module.get_installed_path

    @functools.wraps(get_installed_path)
    def installed_path(package: str) -> str:
        return package_dir if package == 'mnv3_plugin' else get_installed_path(package)

    config_module.get_installed_path = installed_path
    get_cfg_path = config_module.Config._get_cfg_path

    @functools.wraps(get_cfg_path)
    def cfg_path_in_host_scope(cfg_path: str, filename: str):
        path, scope = get_cfg_path(cfg_path, filename)
        return path, (None if scope == 'mnv3_plugin' else scope)

    config_module.Config._get_cfg_path = staticmethod(cfg_path_in_host_scope)


@_fix('mmengine')
def _strict_checkpoint() -> None:
    from .checkpoint import install
    install()


@_fix('mmdet.models.dense_heads')
def _ssd_head_loss_cls() -> None:
    from mmdet.models.dense_heads import SSDHead

    init = SSDHead.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        if not hasattr(self, 'loss_cls'):
            self.loss_cls = None

    SSDHead.__init__ = __init__


class _TorchaoEnumFilter(logging.Filter):
    """Drops torch's "<enum> is an Enum subclass ... register_constant() ... deprecated" record
    when the enum is torchao's (see ``torchao_enum_pytree`` in the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 'is an Enum subclass' not in str(record.msg) or not record.args:
            return True
        cls = record.args[0] if isinstance(record.args, tuple) else None
        return not str(getattr(cls, '__module__', '')).startswith('torchao')


@_fix('mmengine')
def _torchao_enum_pytree() -> None:
    logger = logging.getLogger('torch.utils._pytree')
    if not any(isinstance(f, _TorchaoEnumFilter) for f in logger.filters):
        logger.addFilter(_TorchaoEnumFilter())


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs callbacks right after a module is first imported (a post-import hook)."""

    def __init__(self):
        self.pending: Dict[str, List[Callable[[], None]]] = {}

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        callbacks, exec_module = self.pending.pop(fullname), spec.loader.exec_module

        def exec_then_fix(module):
            exec_module(module)
            for callback in callbacks:
                callback()
        spec.loader.exec_module = exec_then_fix
        return spec


_HOOK = _AfterImport()


def _apply(name: str) -> None:
    if name not in APPLIED:
        FIXES[name]()
        APPLIED.append(name)


def apply_all() -> List[str]:
    """Applies every fix not disabled by ``MNV3_PLUGIN_DISABLE_FIXES``, once: at once when its
    host is already imported, else right after the host's first import.

    Returns:
        The names of the fixes applied so far.

    Raises:
        ValueError: the variable names a fix that does not exist.
    """
    disabled = {s.strip() for s in os.environ.get('MNV3_PLUGIN_DISABLE_FIXES', '').split(',')}
    unknown = disabled - set(FIXES) - {'', 'all'}
    if unknown:
        raise ValueError(f'MNV3_PLUGIN_DISABLE_FIXES names unknown fixes {sorted(unknown)}; '
                         f'valid: {sorted(FIXES)} or all')
    for name in FIXES:
        if name in disabled or 'all' in disabled:
            continue
        host = HOST_OF[name]
        if host == 'mmengine' or host in sys.modules:
            _apply(name)
        else:
            _HOOK.pending.setdefault(host, []).append(functools.partial(_apply, name))
    if _HOOK.pending and _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)
    return APPLIED
