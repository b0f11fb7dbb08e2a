"""Accuracy of an exported model on a runtime, with the config's own evaluator.

The runtime computes the network forward (:class:`~mnv3_plugin.deploy.model.NetworkForward`'s
outputs) of each preprocessed image; everything around it is the OpenMMLab model's own code, as
in its ``val_step``: the data preprocessor before, the head's post-processing after
(mmseg's ``decode_head.predict_by_feat`` + ``postprocess_result``: resize to the input, crop the
padding, resize to the original image, argmax; mmpretrain's softmax + argmax), and the config's
``val_evaluator`` (mmseg's ``IoUMetric``, mmpretrain's ``Accuracy``) on the resulting data
samples. A runtime's metric thus differs from PyTorch's only through its logits.
"""
import copy
from typing import Callable, Dict, List, Optional, Sequence

import torch
from torch import nn

from .errors import DeployError
from .model import task_of

# the metric each task's table reports (the key of the config's val_evaluator result)
METRIC_KEYS = dict(segmentor='mIoU', classifier='accuracy/top1')

Backend = Callable[[torch.Tensor], List[torch.Tensor]]


def runtime_predict(model: nn.Module, backend: Optional[Backend], inputs: torch.Tensor,
                    data_samples: Sequence) -> list:
    """What ``model.predict(inputs, data_samples)`` gives, with the network forward on a runtime.

    Args:
        model: the eval-mode OpenMMLab segmentor or classifier (its post-processing is used).
        backend: maps a (1, 3, H, W) tensor to the network outputs (a runtime backend of
            :mod:`mnv3_plugin.deploy.runtime`); None runs the model's own ``predict``.
        inputs: (N, 3, H, W), the data preprocessor's output; the runtime gets one image at a
            time (batch 1, as exported).
        data_samples: the N data samples of the batch (their metainfo: image, padding and
            original shapes).

    Returns:
        The N data samples with the predictions (``pred_sem_seg`` and ``seg_logits`` at the
        original image size; ``pred_score`` and ``pred_label``).

    Raises:
        DeployError: a detector (decode with :func:`~mnv3_plugin.deploy.runtime.postprocess`),
            or a segmentor configured for sliding-window inference (``test_cfg.mode='slide'``,
            several network forwards per image: set ``model.test_cfg.mode='whole'``).
    """
    task = task_of(model)
    if task not in METRIC_KEYS:
        raise DeployError(f'runtime evaluation covers {", ".join(METRIC_KEYS)} models, not a '
                          f'{task}; decode a detector\'s outputs with '
                          f'mnv3_plugin.deploy.runtime.postprocess')
    with torch.no_grad():
        if backend is None:
            return model.predict(inputs, list(data_samples))
        outputs = [backend(inputs[i:i + 1]) for i in range(inputs.shape[0])]
        logits = torch.cat([out[0].float() for out in outputs])
        if task == 'segmentor':
            mode = model.test_cfg.get('mode', 'whole') if model.test_cfg else 'whole'
            if mode != 'whole':
                raise DeployError(f'the segmentor\'s test_cfg.mode is {mode!r}: a runtime runs '
                                  f'the whole image at the exported size; set '
                                  f'model.test_cfg.mode=\'whole\'')
            metas = [s.metainfo for s in data_samples]
            seg_logits = model.decode_head.predict_by_feat(logits, metas)
            return model.postprocess_result(seg_logits, list(data_samples))
        return model.head._get_predictions(logits, list(data_samples))


def build_val(cfg, loader: str = 'val_dataloader', evaluator: str = 'val_evaluator'):
    """The config's validation dataloader (single process) and evaluator.

    Args:
        cfg: an mmengine ``Config`` (its ``default_scope`` names the registries).
        loader: the dataloader key.
        evaluator: the evaluator key.

    Returns:
        ``(dataloader, evaluator)``; the evaluator knows the dataset's classes.

    Raises:
        DeployError: the config has no such dataloader or evaluator.
    """
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner
    if not cfg.get(loader) or not cfg.get(evaluator):
        raise DeployError(f'the config has no {loader} and {evaluator} to evaluate on')
    loader_cfg = copy.deepcopy(cfg.get(loader))
    loader_cfg = loader_cfg.to_dict() if hasattr(loader_cfg, 'to_dict') else dict(loader_cfg)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        dataloader = Runner.build_dataloader(loader_cfg, seed=0)
        metrics = cfg.get(evaluator)
        evaluator = Evaluator(metrics if isinstance(metrics, (list, tuple)) else [metrics])
    evaluator.dataset_meta = dataloader.dataset.metainfo
    return dataloader, evaluator


def _quiet_metrics():
    """mmseg's IoUMetric logs a per-class table at INFO on every evaluation: keep it out."""
    from mmengine.logging import MMLogger

    from .quantize import quiet_logger
    return quiet_logger(MMLogger.get_current_instance())


def evaluate_backend(model: nn.Module, backend: Optional[Backend], dataloader,
                     evaluator, max_images: Optional[int] = None) -> Dict[str, float]:
    """The evaluator's metrics of ``backend``'s outputs on ``dataloader``, as ``ValLoop`` does.

    Args:
        model: the eval-mode OpenMMLab model (data preprocessor and post-processing).
        backend: the runtime (see :func:`runtime_predict`); None: the PyTorch model itself.
        dataloader: batches of ``dict(inputs=..., data_samples=...)`` (e.g. from
            :func:`build_val`).
        evaluator: an mmengine ``Evaluator`` with ``dataset_meta`` set.
        max_images: stop after this many images (the metric covers those only).

    Returns:
        The evaluator's results, e.g. ``{'aAcc': .., 'mIoU': .., 'mAcc': ..}`` (percent).
    """
    count = 0
    with _quiet_metrics():
        for batch in dataloader:
            with torch.no_grad():
                data = model.data_preprocessor(batch, False)
            inputs, samples = data['inputs'], data['data_samples']
            if max_images is not None:
                inputs, samples = inputs[:max_images - count], samples[:max_images - count]
            evaluator.process(data_samples=runtime_predict(model, backend, inputs, samples),
                              data_batch=batch)
            count += inputs.shape[0]
            if max_images is not None and count >= max_images:
                break
        return evaluator.evaluate(count)


def take_images(dataloader, num: int) -> list:
    """The first batches of ``dataloader`` holding ``num`` images, kept in memory (to evaluate
    several runtimes on the same images without loading them again)."""
    batches, count = [], 0
    for batch in dataloader:
        batches.append(batch)
        count += len(batch['inputs'])
        if count >= num:
            break
    return batches


def first_inputs(model: nn.Module, dataloader, num: int) -> List[torch.Tensor]:
    """The first ``num`` preprocessed images of ``dataloader``, each (1, 3, H, W): real images
    for the export checks and the latency input."""
    out = []
    for batch in dataloader:
        with torch.no_grad():
            inputs = model.data_preprocessor(batch, False)['inputs']
        out += [inputs[i:i + 1].float().contiguous() for i in range(inputs.shape[0])]
        if len(out) >= num:
            break
    return out[:num]
