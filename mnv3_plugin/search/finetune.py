"""Short-term fine-tune and held-out scoring of a proposal (Section 4.2, step 2(b)).

The config's own recipe, through mmengine: its training pipeline, batch size, loss, and its
optimizer built by mmengine's ``build_optim_wrapper`` (learning rate scaled by
``auto_scale_lr`` as mmengine's Runner does), stepped by the model's own ``train_step``. Two
parts of the recipe are left out for the T iterations of a proposal, because they act on a
longer time scale: the learning-rate schedule (its first value is used; the paper's decays every
3 epochs) and the EMA of the weights (decay 0.9999 averages over ~10^4 iterations, so a
T-iteration fine-tune scored on EMA weights would score the untuned weights).

The held-out split is a fixed part of the *training* set (every k-th image), read with the
config's test pipeline, as NetAdapt scores proposals on a held-out subset of the training data
rather than on the validation set.
"""
import copy
from dataclasses import dataclass
from typing import List, Tuple

import torch
from mmengine.config import Config


@dataclass
class SearchData:
    """The two loaders of a search, built once and reused for every proposal."""
    train_loader: object
    holdout_loader: object
    train_indices: List[int]
    holdout_indices: List[int]


def holdout_every(holdout_fraction: float) -> int:
    """k of the held-out split: every k-th image (k = round(1 / fraction), at least 2), i.e.
    the images at indices k-1, 2k-1, ... of the training set.

    Raises:
        ValueError: a fraction outside (0, 0.5].
    """
    if not 0 < holdout_fraction <= 0.5:
        raise ValueError(f'holdout fraction must be in (0, 0.5], got {holdout_fraction}')
    return max(2, round(1 / holdout_fraction))


def split_indices(num: int, holdout_fraction: float) -> Tuple[List[int], List[int]]:
    """Every k-th image (:func:`holdout_every`) is held out; the rest is for fine-tuning.

    Raises:
        ValueError: a fraction outside (0, 0.5], or a split that leaves either side empty.
    """
    k = holdout_every(holdout_fraction)
    holdout = [i for i in range(num) if i % k == k - 1]
    train = [i for i in range(num) if i % k != k - 1]
    if not holdout or not train:
        raise ValueError(f'{num} training images cannot be split with holdout fraction '
                         f'{holdout_fraction}; the search needs more training images')
    return train, holdout


def build_search_data(cfg: Config, holdout_fraction: float = 0.2, seed: int = 0) -> SearchData:
    """Builds the fine-tune loader and the held-out loader from the config's training set.

    Args:
        cfg: the seed's classification config (``train_dataloader``, ``val_dataloader`` for the
            test pipeline).
        holdout_fraction: part of the training set scored, never trained on.
        seed: the fine-tune loader's sampler seed (every proposal sees the same batches).
    """
    from mmengine.registry import DATASETS, init_default_scope
    from mmengine.runner import Runner
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    num = len(DATASETS.build(copy.deepcopy(dataset_cfg)))
    train_idx, holdout_idx = split_indices(num, holdout_fraction)

    train_cfg = copy.deepcopy(cfg.train_dataloader)
    train_cfg.dataset['indices'] = train_idx
    holdout_cfg = copy.deepcopy(cfg.val_dataloader)
    holdout_dataset = copy.deepcopy(dataset_cfg)
    holdout_dataset['pipeline'] = copy.deepcopy(cfg.val_dataloader.dataset.pipeline)
    holdout_dataset['indices'] = holdout_idx
    holdout_cfg['dataset'] = holdout_dataset
    holdout_cfg['sampler'] = dict(type='DefaultSampler', shuffle=False)
    return SearchData(Runner.build_dataloader(train_cfg, seed=seed),
                      Runner.build_dataloader(holdout_cfg, seed=seed), train_idx, holdout_idx)


def build_optimizer(model, cfg: Config):
    """The config's optimizer wrapper for ``model``, lr scaled as mmengine's ``auto_scale_lr``."""
    from mmengine.optim import build_optim_wrapper
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    scale = cfg.get('auto_scale_lr') or {}
    if scale.get('enable') and scale.get('base_batch_size'):
        ratio = cfg.train_dataloader.batch_size / scale['base_batch_size']
        for group in optim_wrapper.optimizer.param_groups:
            group['lr'] *= ratio
    return optim_wrapper


def finetune(model, cfg: Config, data: SearchData, iters: int, seed: int = 0):
    """Trains ``model`` in place for ``iters`` iterations of the config's recipe.

    Args:
        model: an mmpretrain classifier.
        cfg: its config (optimizer, auto_scale_lr).
        data: the loaders of :func:`build_search_data`.
        iters: T, iterations (batches); the loader restarts when exhausted.
        seed: torch's random seed for the run (dropout): the same seed gives the same run.

    Returns:
        The model, in eval mode.
    """
    torch.manual_seed(seed)
    optim_wrapper = build_optimizer(model, cfg)
    model.train()
    batches = iter(data.train_loader)
    for _ in range(iters):
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(data.train_loader)
            batch = next(batches)
        model.train_step(batch, optim_wrapper)
    return model.eval()


def evaluate(model, data: SearchData) -> float:
    """Top-1 accuracy (%) of ``model`` on the held-out split."""
    from mmengine.evaluator import Evaluator
    evaluator = Evaluator(dict(type='Accuracy', topk=(1,)))
    evaluator.dataset_meta = data.holdout_loader.dataset.metainfo
    model.eval()
    with torch.no_grad():
        for batch in data.holdout_loader:
            evaluator.process(model.val_step(batch), batch)
    return float(evaluator.evaluate(len(data.holdout_loader.dataset))['accuracy/top1'])
