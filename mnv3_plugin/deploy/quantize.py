"""int8 with NNCF: post-training quantization (PTQ) and quantization-aware training (QAT) in the
ordinary mmengine loop, and export of the int8 model to OpenVINO IR.

A config becomes an int8 config with two top-level keys (a Table 4 row inherits its Table 3 row
and adds them)::

    runner_type = 'mnv3_plugin.QuantizationRunner'
    quantization = dict(
        method='qat',                 # or 'ptq'
        checkpoint='fp32.pth',        # the fp32 weights to quantize (else ``load_from``)
        calib_dataloader='train_dataloader',  # PTQ calibrates on this loader of the config
        subset_size=300,              # images for the quantizers' ranges (NNCF's default)
        preset='performance',         # NNCF preset: symmetric activations and weights
        freeze_bn_after=None,         # QAT: iteration after which BN statistics stop updating
        freeze_quantizers_after=None, # QAT: iteration after which quantizer ranges stop training
    )

:class:`QuantizationRunner` (``tools/train.py`` and ``tools/test.py`` build it through
``runner_type``) builds the fp32 model, loads the fp32 weights, calibrates NNCF's quantizers on
batches of the config's own dataloader (``nncf.quantize``) and hands the fake-quantized model to
the loop: QAT is PTQ followed by fine-tuning (NNCF's QAT recipe). BN statistics and quantizer
ranges are frozen after configurable iterations, as torchvision's quantization recipe does
(``--num-batch-norm-update-epochs``, ``--num-observer-update-epochs``). Checkpoints carry NNCF's
quantizer layout (``nncf.torch.get_config``) in ``meta['nncf_config']``, so an int8 checkpoint
resumes (``--resume``) and tests (``tools/test.py``) with its quantizers restored
(``nncf.torch.load_from_config``), without calibrating again.
"""
import contextlib
import copy
import io
import math
import os
import os.path as osp
import tempfile
from dataclasses import dataclass, fields
from typing import Callable, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import Registry
from mmengine.runner import Runner
from torch import nn

from .. import registry as _registry
from .errors import DeployError, require

# Runners of the ``mnv3_plugin`` scope (``runner_type='mnv3_plugin.QuantizationRunner'``); reuse a
# plugin-wide one if mnv3_plugin/registry.py ever defines it.
RUNNERS = getattr(_registry, 'RUNNERS', None) or Registry(
    'runner', parent=MMENGINE_RUNNERS, scope='mnv3_plugin', locations=['mnv3_plugin.deploy'])

METHODS = ('ptq', 'qat')
NNCF_CONFIG_KEY = 'nncf_config'


class QuantizationConfigError(SystemExit):
    """A wrong or unusable ``quantization`` setting; a SystemExit so that tools/train.py and
    tools/test.py exit with this one line instead of a traceback."""

    def __init__(self, message: str):
        super().__init__(f'error: {message}')


@dataclass
class QuantizationSettings:
    """The config's ``quantization`` dict, checked.

    Attributes:
        method: 'ptq' (calibrate only) or 'qat' (calibrate, then train with fake quantization).
        checkpoint: fp32 weights to quantize; default: the runner's ``load_from`` when that is
            an fp32 checkpoint.
        calib_dataloader: the config's dataloader whose batches calibrate the ranges.
        subset_size: number of images used for calibration.
        preset: NNCF ``QuantizationPreset``: 'performance' (symmetric) or 'mixed'.
        fast_bias_correction: NNCF's fast bias correction after PTQ.
        freeze_bn_after: QAT iteration from which BN layers stay in eval mode (their running
            statistics frozen); None never freezes.
        freeze_quantizers_after: QAT iteration from which the quantizers' ranges get no more
            gradient updates; None never freezes.
        ignored_scope: NNCF ``IgnoredScope`` arguments (names, patterns, types) of operations
            to leave in float.
    """
    method: str = 'ptq'
    checkpoint: Optional[str] = None
    calib_dataloader: str = 'train_dataloader'
    subset_size: int = 300
    preset: str = 'performance'
    fast_bias_correction: bool = True
    freeze_bn_after: Optional[int] = None
    freeze_quantizers_after: Optional[int] = None
    ignored_scope: Optional[dict] = None

    @classmethod
    def from_cfg(cls, value) -> 'QuantizationSettings':
        """Checks a config's ``quantization`` dict.

        Raises:
            QuantizationConfigError: missing, an unknown key, or a bad value.
        """
        if not value:
            raise QuantizationConfigError(
                'runner_type QuantizationRunner needs a top-level quantization=dict(method='
                "'ptq' or 'qat', ...) in the config")
        value = dict(value)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise QuantizationConfigError(f'unknown quantization keys {unknown}; valid: '
                                          f'{sorted(known)}')
        settings = cls(**value)
        if settings.method not in METHODS:
            raise QuantizationConfigError(f'quantization.method must be one of {METHODS}, got '
                                          f'{settings.method!r}')
        if settings.preset not in ('performance', 'mixed'):
            raise QuantizationConfigError("quantization.preset must be 'performance' or "
                                          f"'mixed', got {settings.preset!r}")
        if settings.subset_size < 1:
            raise QuantizationConfigError('quantization.subset_size must be at least 1')
        return settings


def _nncf():
    nncf = require('nncf', 'int8 quantization')
    require('torchao', 'int8 quantization (nncf.strip)')
    return nncf


def calibration_batches(model: nn.Module, loader, subset_size: int) -> List[torch.Tensor]:
    """Preprocessed network inputs from ``loader`` until ``subset_size`` images are gathered.

    Args:
        model: its ``data_preprocessor`` turns a loader batch into the network input.
        loader: an iterable of mmengine data batches (``dict(inputs=..., data_samples=...)``).
        subset_size: images wanted.

    Returns:
        A list of (B, 3, H, W) float tensors.

    Raises:
        DeployError: the loader yields no batch.
    """
    batches, count = [], 0
    with torch.no_grad():
        for batch in loader:
            x = model.data_preprocessor(batch, False)['inputs']
            batches.append(x)
            count += x.shape[0]
            if count >= subset_size:
                break
    if not batches:
        raise DeployError('the calibration dataloader yielded no batch: PTQ needs images')
    return batches


def quantize_ptq(model: nn.Module, batches: Sequence[torch.Tensor],
                 settings: Optional[QuantizationSettings] = None) -> nn.Module:
    """NNCF post-training quantization of an OpenMMLab model (the whole network forward).

    Args:
        model: the fp32 model with its weights (left unchanged; NNCF works on a copy).
        batches: calibration inputs, each (B, 3, H, W), the data preprocessor's output.
        settings: preset, subset size, bias correction, ignored scope.

    Returns:
        The fake-quantized model (same class, its forward wrapped by NNCF's function hooks), in
        eval mode. It trains like the original (``mode='loss'``), which is QAT.
    """
    nncf = _nncf()
    settings = settings or QuantizationSettings()
    was_training = model.training
    model.eval()
    images = sum(b.shape[0] for b in batches)
    kwargs = dict(
        preset=nncf.QuantizationPreset.PERFORMANCE if settings.preset == 'performance'
        else nncf.QuantizationPreset.MIXED,
        subset_size=min(settings.subset_size, images),
        fast_bias_correction=settings.fast_bias_correction)
    if settings.ignored_scope:
        kwargs['ignored_scope'] = nncf.IgnoredScope(**settings.ignored_scope)
    if not settings.fast_bias_correction:
        kwargs['fast_bias_correction'] = True
        kwargs['advanced_parameters'] = nncf.AdvancedQuantizationParameters(
            disable_bias_correction=True)
    # NNCF iterates the dataset item by item: one image per item keeps subset_size in images
    items = [x[i:i + 1] for x in batches for i in range(x.shape[0])]
    with _quiet():
        qmodel = nncf.quantize(model, nncf.Dataset(items), **kwargs)
    model.train(was_training)
    return qmodel.eval()


@contextlib.contextmanager
def _quiet():
    """NNCF logs progress bars at INFO; keep them out of the tools' output."""
    import logging
    logger = logging.getLogger('nncf')
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def quantizers(model: nn.Module) -> List[nn.Module]:
    """NNCF's quantizer modules of a quantized model."""
    from nncf.torch.quantization.layers import BaseQuantizer
    return [m for m in model.modules() if isinstance(m, BaseQuantizer)]


def restore_quantized(model: nn.Module, nncf_config: dict) -> nn.Module:
    """Re-inserts the quantizers recorded by ``nncf.torch.get_config`` into an fp32 model (their
    ranges come with the checkpoint's state dict, loaded afterwards)."""
    nncf = _nncf()
    import nncf.torch  # noqa: F401
    return nncf.torch.load_from_config(model, nncf_config)


def is_quantized(model: nn.Module) -> bool:
    """Whether NNCF's function hooks wrap ``model``."""
    try:
        from nncf.torch import is_wrapped_model
    except ImportError:
        return False
    return bool(is_wrapped_model(model))


def read_checkpoint_meta(path: Optional[str]) -> Optional[dict]:
    """The ``meta`` of an mmengine checkpoint (None when there is no such file)."""
    if not path or not osp.isfile(path):
        return None
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    return ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}


class QuantizationHook(Hook):
    """Freezes BN statistics and quantizer ranges after configurable iterations (torchvision's
    recipe), and records NNCF's quantizer layout in every checkpoint.

    Args:
        freeze_bn_after: iteration from which every BN layer stays in eval mode.
        freeze_quantizers_after: iteration from which quantizer parameters get no gradient.
    """

    priority = 'NORMAL'

    def __init__(self, freeze_bn_after: Optional[int] = None,
                 freeze_quantizers_after: Optional[int] = None):
        self.freeze_bn_after = freeze_bn_after
        self.freeze_quantizers_after = freeze_quantizers_after
        self.quantizers_frozen = False

    @staticmethod
    def _model(runner) -> nn.Module:
        model = runner.model
        return getattr(model, 'module', model)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        model = self._model(runner)
        if self.freeze_bn_after is not None and runner.iter >= self.freeze_bn_after:
            # the loop calls model.train() every epoch: re-apply each iteration
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        if (self.freeze_quantizers_after is not None and not self.quantizers_frozen
                and runner.iter >= self.freeze_quantizers_after):
            for q in quantizers(model):
                q.disable_gradients()
            self.quantizers_frozen = True
            runner.logger.info(f'quantizer ranges frozen at iteration {runner.iter}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = self._model(runner)
        if is_quantized(model):
            import nncf.torch
            checkpoint.setdefault('meta', {})[NNCF_CONFIG_KEY] = nncf.torch.get_config(model)


@RUNNERS.register_module()
class QuantizationRunner(Runner):
    """mmengine's Runner with an NNCF-quantized model (see the module docstring).

    The model is quantized while it is built, so the optimizer, the DDP wrapper, ``--resume``
    and ``tools/test.py`` all see the int8 (fake-quantized) model:

    - ``load_from`` (or the latest checkpoint, with ``resume``) holding ``meta['nncf_config']``:
      the quantizers are restored from it and mmengine loads its weights and ranges as usual;
    - otherwise the fp32 weights (``quantization.checkpoint``, else an fp32 ``load_from``, which
      is then consumed here) are loaded and the model is calibrated on the config's dataloader.
    """

    def build_model(self, model):
        model = super().build_model(model)
        settings = QuantizationSettings.from_cfg(self.cfg.get('quantization'))
        _nncf()
        source = self._load_from
        if source is None and self._resume:
            from mmengine.runner import find_latest_checkpoint
            source = find_latest_checkpoint(self.work_dir)
        meta = read_checkpoint_meta(source)
        if meta is not None and NNCF_CONFIG_KEY in meta:
            self.logger.info(f'int8: restoring NNCF quantizers from {source}')
            model = restore_quantized(model, meta[NNCF_CONFIG_KEY])
        else:
            fp32 = settings.checkpoint
            if fp32 is None and self._load_from is not None and not self._resume:
                fp32, self._load_from = self._load_from, None  # consumed: weights before PTQ
            if fp32 is not None:
                from .model import load_checkpoint
                load_checkpoint(model, fp32, 'the int8 config\'s model')
                self.logger.info(f'int8: fp32 weights from {fp32}')
            else:
                self.logger.warning('int8: no fp32 checkpoint (quantization.checkpoint or '
                                    'load_from): quantizing the initial weights')
                model.init_weights()
            model = self._calibrate(model, settings)
        # the loaded (or restored) weights must not be re-initialised by Runner.train
        model._is_init = True
        return model

    def _calibrate(self, model: nn.Module, settings: QuantizationSettings) -> nn.Module:
        name = settings.calib_dataloader
        loader_cfg = self.cfg.get(name)
        if not loader_cfg:
            raise QuantizationConfigError(
                f'int8 {settings.method}: the config has no {name} to calibrate on; set '
                f'quantization.calib_dataloader to a dataloader of the config')
        from ..data_check import DataRootError, check_data
        try:
            check_data(self.cfg, loaders=[name])
        except DataRootError as e:
            first = str(e.code).splitlines()[0].replace('error: ', '')
            raise QuantizationConfigError(f'int8 {settings.method} has no calibration data: '
                                          f'{first}') from None
        loader_cfg = copy.deepcopy(loader_cfg)
        loader_cfg = dict(loader_cfg) if not hasattr(loader_cfg, 'to_dict') else \
            loader_cfg.to_dict()
        loader_cfg.update(num_workers=0, persistent_workers=False)
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        batches = calibration_batches(model, loader, settings.subset_size)
        images = sum(b.shape[0] for b in batches)
        self.logger.info(f'int8 {settings.method}: calibrating NNCF quantizers on {images} '
                         f'images of {name}')
        qmodel = quantize_ptq(model, batches, settings)
        self.logger.info(f'int8: {len(quantizers(qmodel))} quantizers inserted')
        return qmodel

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        settings = QuantizationSettings.from_cfg(self.cfg.get('quantization'))
        self.register_hook(QuantizationHook(settings.freeze_bn_after,
                                            settings.freeze_quantizers_after))


# -- export to OpenVINO IR -------------------------------------------------------------------
def export_openvino(net: nn.Module, example: torch.Tensor, out_xml: str,
                    output_names: Optional[Sequence[str]] = None) -> None:
    """Writes ``net`` as OpenVINO IR (``out_xml`` + ``.bin``) through ONNX: the route that
    works for NNCF-quantized torch models (``torch.onnx.export(dynamo=False)``, whose trace
    exports NNCF's quantizers as FakeQuantize, then ``openvino.convert_model``).

    Args:
        net: maps (1, 3, H, W) to a tuple of tensors (a :class:`NetworkForward`).
        example: (1, 3, H, W) input; the IR has this static shape.
        out_xml: the ``.xml`` path; ``.bin`` is written beside it.
        output_names: names of the outputs.

    Raises:
        DeployError: openvino missing or the conversion fails.
    """
    ov = require('openvino', 'OpenVINO export')
    require('onnx', 'OpenVINO export')
    with tempfile.TemporaryDirectory(prefix='mnv3_ov_') as tmp:
        onnx_path = osp.join(tmp, 'model.onnx')
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), \
                    torch.no_grad(), _quiet():
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    torch.onnx.export(net, (example,), onnx_path, dynamo=False, opset_version=17,
                                      input_names=['input'],
                                      output_names=list(output_names) if output_names else None)
            ov_model = ov.convert_model(onnx_path)
            ov.save_model(ov_model, out_xml, compress_to_fp16=False)
        except Exception as e:  # noqa: BLE001
            raise DeployError(f'OpenVINO export failed: {type(e).__name__}: '
                              f'{str(e).strip().splitlines()[0] if str(e).strip() else ""}') \
                from None


def export_openvino_checked(net: nn.Module, inputs: Sequence[torch.Tensor], out_xml: str,
                            atol: float, log: Callable[[str], None] = print,
                            output_names: Optional[Sequence[str]] = None):
    """:func:`export_openvino`, then OpenVINO's outputs compared with ``net``'s (the torch
    fake-quant model) on ``inputs`` before the files are moved to ``out_xml``.

    Returns:
        The :class:`~mnv3_plugin.deploy.check.CheckResult`.

    Raises:
        DeployError: export failure, or outputs differing by more than ``atol`` (nothing is
            written then).
    """
    from .check import compare_outputs
    from .runtime import OpenVINOBackend
    out_xml = osp.abspath(out_xml)
    os.makedirs(osp.dirname(out_xml), exist_ok=True)
    tmpdir = tempfile.mkdtemp(prefix=f'.{osp.basename(out_xml)}.', dir=osp.dirname(out_xml))
    try:
        tmp_xml = osp.join(tmpdir, 'model.xml')
        export_openvino(net, inputs[0], tmp_xml, output_names)
        backend = OpenVINOBackend(tmp_xml)
        worst = None
        for x in inputs:
            with torch.no_grad():
                ref = net(x)
            res = compare_outputs(ref, backend(x), atol, 'outputs')
            worst = res if worst is None or (not res.ok or res.max_diff > worst.max_diff) \
                and worst.ok else worst
        line = (f'openvino int8 vs PyTorch fake-quant, {len(inputs)} image(s) at '
                f'{inputs[0].shape[2]}x{inputs[0].shape[3]}: {worst.line}')
        log(f'check {"OK  " if worst.ok else "FAIL"} {line}')
        if not worst.ok:
            raise DeployError(f'OpenVINO\'s int8 outputs differ from the fake-quant model\'s; '
                              f'nothing written to {out_xml}')
        del backend
        os.replace(tmp_xml, out_xml)
        os.replace(osp.join(tmpdir, 'model.bin'), osp.splitext(out_xml)[0] + '.bin')
        return worst
    finally:
        import shutil
        shutil.rmtree(tmpdir, ignore_errors=True)
