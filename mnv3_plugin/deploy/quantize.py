"""int8 with NNCF: post-training quantization (PTQ) and quantization-aware training (QAT) in the
ordinary mmengine loop, and export of the int8 model to OpenVINO IR.

A config becomes an int8 config with these top-level keys (a Table 4 row inherits its Table 3
row and adds them)::

    custom_imports = dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'],
                          allow_failed_imports=False)
    runner_type = 'mnv3_plugin.QuantizationRunner'
    quantization = dict(
        method='qat',                 # or 'ptq'
        checkpoint='fp32.pth',        # the fp32 weights (an fp32 ``load_from`` wins)
        calib_dataloader='train_dataloader',  # PTQ calibrates on this loader of the config
        subset_size=300,              # images for the quantizers' ranges (NNCF's default)
        preset='performance',         # NNCF preset: symmetric activations and weights
        by_epoch=False,               # the two counts below in epochs (True) or iterations
        freeze_bn_after=None,         # QAT: iterations (epochs) after which BN statistics freeze
        freeze_quantizers_after=None, # QAT: ... after which quantizer ranges stop training
    )

:class:`QuantizationRunner` (``tools/train.py`` and ``tools/test.py`` build it through
``runner_type``) builds the fp32 model, loads the fp32 weights, calibrates NNCF's quantizers on
batches of the config's own dataloader (``nncf.quantize``) and hands the fake-quantized model to
the loop: QAT is PTQ followed by fine-tuning (NNCF's QAT recipe). BN statistics and quantizer
ranges are frozen after configurable iterations or epochs (``by_epoch``), as torchvision's
quantization recipe does (``--num-batch-norm-update-epochs``, ``--num-observer-update-epochs`` in
pytorch/vision references/classification/train_quantization.py). Checkpoints carry NNCF's
quantizer layout (``nncf.torch.get_config``) in ``meta['nncf_config']``, so an int8 checkpoint
resumes (``--resume``) and tests (``tools/test.py``) with its quantizers restored
(``nncf.torch.load_from_config``), without calibrating again.
"""
import contextlib
import copy
import io
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
from .check import CheckResult
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
        checkpoint: the fp32 weights to quantize (an int8 config of a row names the file its
            row's training writes, ``work_dirs/{row}/epoch_{max_epochs}.pth``). An fp32
            ``load_from`` (``tools/test.py CONFIG FP32_CKPT``) takes precedence; a path that is
            not a file fails with one line; None quantizes the initial weights (a warning).
        calib_dataloader: the config's dataloader whose batches calibrate the ranges.
        subset_size: number of images used for calibration.
        preset: NNCF ``QuantizationPreset``: 'performance' (symmetric) or 'mixed'.
        fast_bias_correction: NNCF's fast bias correction after PTQ.
        by_epoch: whether ``freeze_bn_after`` and ``freeze_quantizers_after`` count epochs
            (mmengine's ``EpochBasedTrainLoop``) or iterations (the default).
        freeze_bn_after: QAT iterations (epochs) completed after which BN layers stay in eval
            mode (their running statistics frozen); 0 freezes from the start, None never.
        freeze_quantizers_after: QAT iterations (epochs) completed after which the quantizers'
            ranges get no more gradient updates; None never freezes.
        ignored_scope: NNCF ``IgnoredScope`` arguments (names, patterns, types) of operations
            to leave in float.
    """
    method: str = 'ptq'
    checkpoint: Optional[str] = None
    calib_dataloader: str = 'train_dataloader'
    subset_size: int = 300
    preset: str = 'performance'
    fast_bias_correction: bool = True
    by_epoch: bool = False
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
        for key in ('freeze_bn_after', 'freeze_quantizers_after'):
            value = getattr(settings, key)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise QuantizationConfigError(f'quantization.{key} must be a count of '
                                              f'{"epochs" if settings.by_epoch else "iterations"}'
                                              f' (an int >= 0) or None, got {value!r}')
        return settings


def _nncf():
    nncf = require('nncf', 'int8 quantization')
    require('torchao', 'int8 quantization (nncf.strip)')
    build_nncf_extension()
    return nncf


def build_nncf_extension(log: Callable[[str], None] = print) -> None:
    """Compiles NNCF's CPU quantization kernels once, saying so (about a minute, with g++ and
    ninja; torch keeps the build in its extensions folder, so later runs load it in a second).
    A no-op when built (``tools/setup_env.sh`` builds it during set-up); see
    :mod:`mnv3_plugin.deploy.nncf_ext`.
    """
    from .nncf_ext import build
    try:
        build(log)
    except RuntimeError as e:
        log(f'[nncf] warning: {e}')


def calibration_batches(model: nn.Module, loader, subset_size: int) -> List[torch.Tensor]:
    """Preprocessed network inputs from ``loader`` until ``subset_size`` images are gathered.

    Each image goes through the data preprocessor on its own, in test mode (no padding to a
    batch, no batch augmentation): a training pipeline with random resizing yields images of
    several sizes in one batch, which the preprocessor stacks only in training mode (padding
    them), and NNCF takes one image per calibration item anyway.

    Args:
        model: its ``data_preprocessor`` turns a loader batch into the network input.
        loader: an iterable of mmengine data batches (``dict(inputs=..., data_samples=...)``).
        subset_size: images wanted.

    Returns:
        A list of ``subset_size`` (or fewer, when the loader runs out) (1, 3, H, W) float
        tensors.

    Raises:
        DeployError: the loader yields no batch.
    """
    images = []
    with torch.no_grad():
        for batch in loader:
            samples = batch.get('data_samples')
            for i in range(len(batch['inputs'])):
                one = dict(inputs=[batch['inputs'][i]])
                if samples is not None:
                    one['data_samples'] = [samples[i]]
                images.append(model.data_preprocessor(one, False)['inputs'])
                if len(images) >= subset_size:
                    return images
    if not images:
        raise DeployError('the calibration dataloader yielded no batch: PTQ needs images')
    return images


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
    with quiet_logger():
        qmodel = nncf.quantize(model, nncf.Dataset(items), **kwargs)
    model.train(was_training)
    return qmodel.eval()


@contextlib.contextmanager
def quiet_logger(logger=None):
    """Raises ``logger`` (a ``logging.Logger``; default NNCF's, which logs progress at INFO) to
    WARNING for the block, restoring its level after."""
    import logging
    logger = logger or logging.getLogger('nncf')
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
        from nncf.torch.function_hook.wrapper import is_wrapped
    except ImportError:
        return False
    return bool(is_wrapped(model))


def read_checkpoint_meta(path: Optional[str]) -> Optional[dict]:
    """The ``meta`` of an mmengine checkpoint (None when there is no such file)."""
    if not path or not osp.isfile(path):
        return None
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    return ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}


def is_int8_config(cfg) -> bool:
    """Whether the config builds :class:`QuantizationRunner` (``runner_type``)."""
    return str(cfg.get('runner_type') or '').split('.')[-1] == 'QuantizationRunner'


def check_int8_data(cfg, loaders: Sequence[str], checkpoint: Optional[str] = None,
                    settings: Optional[QuantizationSettings] = None) -> None:
    """The data check of an int8 config, in one line: the ``loaders`` a tool runs and the
    calibration dataloader, unless ``checkpoint`` is an int8 checkpoint (its quantizers are
    restored, not calibrated). tools/test.py and tools/train.py call it for int8 configs
    instead of :func:`mnv3_plugin.data_check.check_data` (whose message, with the expected
    layout, takes several lines).

    Args:
        cfg: the int8 config.
        loaders: dataloader keys the tool reads (``['test_dataloader']``).
        checkpoint: the checkpoint the tool loads, if any.
        settings: the checked ``quantization`` (default: read from ``cfg``).

    Raises:
        QuantizationConfigError: a path of these datasets does not exist; the line names each
            missing path with its loader and the ``--cfg-options`` keys that move them.
    """
    from ..data_check import missing_data
    settings = settings or QuantizationSettings.from_cfg(cfg.get('quantization'))
    names = list(loaders)
    try:
        meta = read_checkpoint_meta(checkpoint)
    except Exception:  # noqa: BLE001  (an unreadable file is the checkpoint loader's to report)
        meta = None
    if not (meta and NNCF_CONFIG_KEY in meta) and settings.calib_dataloader not in names:
        names.append(settings.calib_dataloader)
    missing = missing_data(cfg, names)
    if not missing:
        return
    calib = settings.calib_dataloader
    only_calib = all(loader == calib for loader, *_ in missing)
    paths = ', '.join(
        f'{", ".join(repr(p) for p in paths)} ({loader}'
        f'{"" if only_calib or loader != calib else ", calibration"})'
        for loader, _, _, paths in missing)
    keys = ' '.join(f'{key}.data_root=DIR' for _, _, key, _ in missing)
    raise QuantizationConfigError(
        f'int8 {settings.method} has no {"calibration " if only_calib else ""}data: {paths} '
        f'not found (relative to {os.getcwd()}); put the dataset there or point the config at '
        f'it: --cfg-options {keys}')


def calibration_loader(cfg, settings: QuantizationSettings):
    """The config's calibration dataloader (``settings.calib_dataloader``), single-process.

    Raises:
        QuantizationConfigError: the config has no such dataloader, or its data is not on disk.
    """
    name = settings.calib_dataloader
    loader_cfg = cfg.get(name)
    if not loader_cfg:
        raise QuantizationConfigError(
            f'int8 {settings.method}: the config has no {name} to calibrate on; set '
            f'quantization.calib_dataloader to a dataloader of the config')
    check_int8_data(cfg, [name], settings=settings)
    loader_cfg = copy.deepcopy(loader_cfg)
    loader_cfg = loader_cfg.to_dict() if hasattr(loader_cfg, 'to_dict') else dict(loader_cfg)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    return Runner.build_dataloader(loader_cfg, seed=0)


def calibrate(model: nn.Module, cfg, settings: QuantizationSettings,
              log: Callable[[str], None] = print) -> nn.Module:
    """PTQ of ``model`` on batches of the config's own dataloader.

    Args:
        model: the fp32 OpenMMLab model with its weights.
        cfg: the config (its ``settings.calib_dataloader`` is used).
        settings: the quantization settings.
        log: progress lines.

    Returns:
        The fake-quantized model (see :func:`quantize_ptq`).

    Raises:
        QuantizationConfigError: no calibration dataloader or data.
    """
    batches = calibration_batches(model, calibration_loader(cfg, settings), settings.subset_size)
    images = sum(b.shape[0] for b in batches)
    log(f'int8 {settings.method}: calibrating NNCF quantizers on {images} images of '
        f'{settings.calib_dataloader}')
    qmodel = quantize_ptq(model, batches, settings)
    log(f'int8: {len(quantizers(qmodel))} quantizers inserted')
    return qmodel


class QuantizationHook(Hook):
    """Freezes BN statistics and quantizer ranges after configurable iterations or epochs
    (torchvision's recipe), and records NNCF's quantizer layout in every checkpoint.

    torchvision's ``train_quantization.py`` trains epoch ``e`` (0-based), then disables the
    observers if ``e >= --num-observer-update-epochs`` and freezes BN statistics if
    ``e >= --num-batch-norm-update-epochs``: with its defaults 4 and 3, observers update during
    5 epochs and BN statistics during 4. Here a count N means "frozen once N epochs (iterations)
    are completed", so torchvision's recipe is ``freeze_quantizers_after=5, freeze_bn_after=4``
    with ``by_epoch=True``.

    Args:
        freeze_bn_after: epochs (iterations) completed from which every BN layer stays in eval
            mode; 0 freezes from the start; None never freezes.
        freeze_quantizers_after: epochs (iterations) completed from which quantizer parameters
            get no gradient; None never freezes.
        by_epoch: whether the counts are epochs (``runner.epoch``) or iterations
            (``runner.iter``).
    """

    priority = 'NORMAL'

    def __init__(self, freeze_bn_after: Optional[int] = None,
                 freeze_quantizers_after: Optional[int] = None, by_epoch: bool = False):
        self.freeze_bn_after = freeze_bn_after
        self.freeze_quantizers_after = freeze_quantizers_after
        self.by_epoch = by_epoch
        self.quantizers_frozen = False

    def _done(self, runner) -> int:
        """Epochs (or iterations) completed before the current iteration."""
        return runner.epoch if self.by_epoch else runner.iter

    @staticmethod
    def _model(runner) -> nn.Module:
        model = runner.model
        return getattr(model, 'module', model)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        model = self._model(runner)
        done = self._done(runner)
        if self.freeze_bn_after is not None and done >= self.freeze_bn_after:
            # the loop calls model.train() every epoch: re-apply each iteration
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        if (self.freeze_quantizers_after is not None and not self.quantizers_frozen
                and done >= self.freeze_quantizers_after):
            for q in quantizers(model):
                q.disable_gradients()
            self.quantizers_frozen = True
            runner.logger.info(f'quantizer ranges frozen at iteration {runner.iter}'
                               + (f' (epoch {runner.epoch + 1})' if self.by_epoch else ''))

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
        settings = self._settings()
        source = self._load_from
        if source is None and self._resume:
            from mmengine.runner import find_latest_checkpoint
            source = find_latest_checkpoint(self.work_dir)
        meta = read_checkpoint_meta(source)
        if meta is not None and NNCF_CONFIG_KEY in meta:
            _nncf()
            self.logger.info(f'int8: restoring NNCF quantizers from {source}')
            return restore_quantized(model, meta[NNCF_CONFIG_KEY])
        fp32 = settings.checkpoint
        if self._load_from is not None and not self._resume:
            # an fp32 load_from (tools/test.py CONFIG FP32_CKPT) wins over the config's
            # default; consumed here: these are the weights before PTQ
            fp32, self._load_from = self._load_from, None
        if fp32 is not None and not osp.isfile(fp32):
            raise QuantizationConfigError(
                f'int8 {settings.method}: the fp32 checkpoint {fp32} (the weights to quantize) '
                'does not exist; train the fp32 config first or pass yours (tools/test.py '
                'CONFIG FP32_CKPT, or --cfg-options quantization.checkpoint=FP32_CKPT)')
        _nncf()
        if fp32 is not None:
            from .model import load_checkpoint
            load_checkpoint(model, fp32, 'the int8 config\'s model')
            self.logger.info(f'int8: fp32 weights from {fp32}')
        else:
            self.logger.warning('int8: no fp32 checkpoint (quantization.checkpoint or '
                                'load_from): quantizing the initial weights')
            model.init_weights()
        return self._calibrate(model, settings)

    def _settings(self) -> QuantizationSettings:
        """The config's ``quantization``, checked, also against its train loop.

        Raises:
            QuantizationConfigError: a bad setting, or ``by_epoch`` with an iteration loop.
        """
        settings = QuantizationSettings.from_cfg(self.cfg.get('quantization'))
        train_cfg = self.cfg.get('train_cfg') or {}
        if settings.by_epoch and (train_cfg.get('type') == 'IterBasedTrainLoop'
                                  or train_cfg.get('by_epoch') is False):
            raise QuantizationConfigError(
                'quantization.by_epoch=True needs an epoch-based train loop; this config trains '
                'by iterations: give freeze_bn_after / freeze_quantizers_after in iterations '
                'with by_epoch=False')
        return settings

    def _init_model_weights(self) -> None:
        """Nothing to initialise: the weights were loaded (or initialised) before quantization,
        and mmengine's ``init_weights`` cannot read NNCF's integer parameters."""

    def _calibrate(self, model: nn.Module, settings: QuantizationSettings) -> nn.Module:
        return calibrate(model, self.cfg, settings, self.logger.info)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        settings = self._settings()
        self.register_hook(QuantizationHook(settings.freeze_bn_after,
                                            settings.freeze_quantizers_after, settings.by_epoch))


# -- export to OpenVINO IR -------------------------------------------------------------------
OV_ROUTES = ('onnx', 'torchscript')
# int8 check bound, relative to the largest |output|: OpenVINO rounds its folded int8 weights and
# activations in its own order, so a value near a rounding boundary may land one quantization
# step away from the fake-quant model's (measured: 1-2% of the output range with random and
# with trained weights, while int8 and fp32 differed by 1-36% in the same runs; see
# docs/deployment.md)
INT8_RTOL = 0.05


def export_openvino(net: nn.Module, example: torch.Tensor, out_xml: str,
                    output_names: Optional[Sequence[str]] = None, route: str = 'onnx') -> None:
    """Writes ``net`` as OpenVINO IR (``out_xml`` + ``.bin``), static input shape.

    Two routes work for NNCF-quantized torch models (``torch.export`` does not take them):

    - ``'onnx'``: ``torch.onnx.export(dynamo=False)`` (its trace exports NNCF's quantizers as
      FakeQuantize), then ``openvino.convert_model`` of the ONNX file;
    - ``'torchscript'``: ``openvino.convert_model(net, example_input=...)``, OpenVINO's own
      PyTorch frontend.

    Args:
        net: maps (1, 3, H, W) to a tuple of tensors (a :class:`NetworkForward`).
        example: (1, 3, H, W) input; the IR has this static shape.
        out_xml: the ``.xml`` path; ``.bin`` is written beside it.
        output_names: names of the outputs (onnx route).
        route: 'onnx' or 'torchscript'.

    Raises:
        DeployError: openvino missing or the conversion fails.
    """
    ov = require('openvino', 'OpenVINO export')
    import warnings
    with tempfile.TemporaryDirectory(prefix='mnv3_ov_') as tmp:
        log = io.StringIO()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), \
                    torch.no_grad(), quiet_logger(), warnings.catch_warnings():
                warnings.simplefilter('ignore')
                if route == 'onnx':
                    require('onnx', 'OpenVINO export')
                    onnx_path = osp.join(tmp, 'model.onnx')
                    torch.onnx.export(net, (example,), onnx_path, dynamo=False,
                                      opset_version=17, input_names=['input'],
                                      output_names=list(output_names) if output_names
                                      else None)
                    ov_model = ov.convert_model(onnx_path)
                else:
                    ov_model = ov.convert_model(net, example_input=example)
            ov.save_model(ov_model, out_xml, compress_to_fp16=False)
        except Exception as e:  # noqa: BLE001
            raise DeployError(f'OpenVINO export ({route}) failed: {type(e).__name__}: '
                              f'{str(e).strip().splitlines()[0] if str(e).strip() else ""}') \
                from None


def export_openvino_checked(net: nn.Module, inputs: Sequence[torch.Tensor], out_xml: str,
                            rtol: float = INT8_RTOL, log: Callable[[str], None] = print,
                            output_names: Optional[Sequence[str]] = None,
                            what: str = 'int8 vs PyTorch fake-quant') -> List[CheckResult]:
    """:func:`export_openvino`, then OpenVINO's outputs compared with ``net``'s (for an int8
    model: the torch fake-quant model) on ``inputs`` before the files are moved to
    ``out_xml``. The routes of :data:`OV_ROUTES` are tried in order; the first that passes is
    written. When ``net``'s outputs barely vary across the inputs (untrained weights), a
    ``check WARN`` line says the comparison cannot detect an export error
    (:func:`~mnv3_plugin.deploy.check.input_sensitivity`).

    Args:
        net: the reference module (its outputs are the bound's reference).
        inputs: (1, 3, H, W) inputs of one size.
        out_xml: where the IR goes.
        rtol: bound on the max abs difference, relative to the largest |output|.
        log: where the check lines go.
        output_names: names of the outputs.
        what: the check line's label.

    Returns:
        The passing :class:`~mnv3_plugin.deploy.check.CheckResult`, then the warning (a
        ``CheckResult`` with ``warning`` True) if there is one.

    Raises:
        DeployError: export failure, or no route within the bound (nothing is written then).
    """
    from .check import compare_outputs, input_sensitivity
    from .runtime import OpenVINOBackend
    out_xml = osp.abspath(out_xml)
    os.makedirs(osp.dirname(out_xml), exist_ok=True)
    tmpdir = tempfile.mkdtemp(prefix=f'.{osp.basename(out_xml)}.', dir=osp.dirname(out_xml))
    try:
        with torch.no_grad():
            refs = [net(x) for x in inputs]
        scale = max(r.abs().max().item() for ref in refs for r in ref)
        bound = 1e-4 + rtol * scale
        sensitivity = input_sensitivity(net, inputs, bound, refs=refs)
        for route in OV_ROUTES:
            tmp_xml = osp.join(tmpdir, f'{route}.xml')
            export_openvino(net, inputs[0], tmp_xml, output_names, route)
            backend = OpenVINOBackend(tmp_xml)
            results = [compare_outputs(ref, backend(x), bound, 'outputs')
                       for ref, x in zip(refs, inputs)]
            del backend
            worst = max(results, key=lambda r: (not r.ok, r.max_diff))
            line = (f'openvino {what} ({route} route), {len(inputs)} image(s) at '
                    f'{inputs[0].shape[2]}x{inputs[0].shape[3]}: outputs max |diff| '
                    f'{worst.max_diff:.2e} {"<=" if worst.ok else ">"} {bound:.2e} '
                    f'({100 * worst.max_diff / max(scale, 1e-12):.2f}% of the largest |output| '
                    f'{scale:.3g}; bound {100 * rtol:g}%)')
            result = CheckResult(worst.ok, line, worst.max_diff, dict(scale=scale, route=route))
            log(str(result))
            if worst.ok:
                os.replace(tmp_xml, out_xml)
                os.replace(osp.splitext(tmp_xml)[0] + '.bin', osp.splitext(out_xml)[0] + '.bin')
                if sensitivity.warning:
                    log(str(sensitivity))
                    return [result, sensitivity]
                return [result]
        raise DeployError(f'OpenVINO\'s outputs differ from the PyTorch model\'s by more than '
                          f'{100 * rtol:g}% of the output range on every route; nothing written '
                          f'to {out_xml}. Trained weights differ by about 2% (see '
                          'docs/deployment.md); untrained or synthetic weights amplify '
                          'OpenVINO\'s rounding: quantize the trained checkpoint')
    finally:
        import shutil
        shutil.rmtree(tmpdir, ignore_errors=True)
