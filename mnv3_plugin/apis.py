"""The few entry points every tool, benchmark and test shares: load a config, build its model,
switch it to deploy mode.

    from mnv3_plugin.apis import build_model, load_config, switch_to_deploy
    model = build_model('configs/classification/v3large_w100_r224_imagenet.py')
    switch_to_deploy(model)   # BN folded everywhere, the backbone channels-last
"""
import copy
import importlib
import os.path as osp
from typing import Optional, Union

import torch
from mmengine.config import Config
from torch import nn

HOSTS = ('mmpretrain', 'mmdet', 'mmseg')


class ConfigError(ValueError):
    """A config that cannot be loaded or does not describe a model of a supported host."""


def load_config(config: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """Loads a config file (or passes a Config through, copied when ``cfg_options`` change it)
    and applies ``cfg_options``.

    Raises:
        ConfigError: the file does not exist or does not parse (one line, with the file).
    """
    if isinstance(config, Config):
        cfg = copy.deepcopy(config) if cfg_options else config
    else:
        if not osp.isfile(config):
            raise ConfigError(f'config file {config!r} not found (the paper rows are under '
                              'configs/classification, configs/detection and '
                              'configs/segmentation; host-model examples under configs/examples)')
        import mnv3_plugin  # noqa: F401  (registry scope and compatibility fixes)
        try:
            cfg = Config.fromfile(config)
        except Exception as e:  # a broken config: say which file and why
            raise ConfigError(f'cannot load config {config!r}: {type(e).__name__}: {e}') from e
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def host_of(cfg: Config) -> str:
    """'mmpretrain', 'mmdet' or 'mmseg': the host library of a config (its ``default_scope``).

    Raises:
        ConfigError: the config inherits no host runtime.
    """
    scope = cfg.get('default_scope')
    if scope not in HOSTS:
        raise ConfigError(f"the config's default_scope is {scope!r}; expected one of {HOSTS} "
                          '(inherit a host default_runtime.py)')
    return scope


def build_model(config: Union[str, Config], init_weights: bool = False,
                device: str = 'cpu') -> nn.Module:
    """Builds a config's model with its host's registry, in eval mode.

    SyncBN becomes BN (a single process), the config's top-level ``data_preprocessor`` is used
    when the model has none, and ``init_weights`` runs the modules' ``init_cfg`` (quietly).

    Args:
        config: a config file or a loaded Config.
        init_weights: run ``model.init_weights()`` (mmdet/mmseg heads have their own init).
        device: where to put the model.

    Raises:
        ConfigError: as :func:`load_config` and :func:`host_of`.
    """
    from mmengine.logging import MMLogger
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope
    cfg = load_config(config)
    scope = host_of(cfg)
    init_default_scope(scope)
    registry = importlib.import_module(f'{scope}.registry').MODELS
    model_cfg = copy.deepcopy(cfg.model)
    if 'data_preprocessor' not in model_cfg and cfg.get('data_preprocessor'):
        model_cfg['data_preprocessor'] = copy.deepcopy(cfg.data_preprocessor)
    model = revert_sync_batchnorm(registry.build(model_cfg))
    if init_weights:
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel('WARNING')  # init_weights logs every tensor
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    return model.to(device).eval()


def switch_to_deploy(model: nn.Module, channels_last: bool = True) -> nn.Module:
    """Deploy mode of any model of the plugin, the one meaning of "deploy" in tools and
    benchmarks: eval mode, every BN folded into the conv before it (mmcv's ``fuse_conv_bn``, as
    the paper's TFLite graphs are), and the plugin backbone in channels-last memory format
    (its ``switch_to_deploy``: the input is converted on entry; oneDNN's depthwise and 1x1
    kernels prefer NHWC on CPU; another library's backbone gets NHWC weights and the caller
    feeds NHWC input). Necks and heads keep their weights' layout.

    Irreversible; outputs equal the eval-mode outputs up to float rounding.

    Args:
        model: a backbone or a task model (classifier, segmentor, detector).
        channels_last: run the backbone in NHWC.

    Returns:
        The same model, switched.
    """
    from mmcv.cnn import fuse_conv_bn
    model.eval()
    backbone = getattr(model, 'backbone', model)
    if hasattr(backbone, 'switch_to_deploy'):
        backbone.switch_to_deploy(channels_last=channels_last)
    elif channels_last:  # another library's backbone: NHWC weights, the caller feeds NHWC
        backbone.to(memory_format=torch.channels_last)
    fuse_conv_bn(model)
    return model
