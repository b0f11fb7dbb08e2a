"""NetAdapt as modified by Section 4.2 of "Searching for MobileNetV3".

From a seed config and its checkpoint, each step

1. generates proposals of two kinds, each cutting the (lookup-table) latency of the current
   network by at least delta = 0.01 x the seed's latency: (a) reduce one expansion layer
   (``exp`` of one row); (b) reduce the bottleneck width of all blocks that share it (``out`` of
   one residual group) - each by the fewest multiples of 8 channels that reach delta;
2. builds each proposal from the current weights, keeping the filters with the largest L2 norm
   (:mod:`.transfer`), fine-tunes it for T iterations with the config's recipe and scores it on
   a held-out split of the training set (:mod:`.finetune`);
3. takes the proposal that maximises dAcc / |dLatency| (the paper's metric; ``'accuracy'``
   selects the original NetAdapt's smallest accuracy drop, Yang et al. 2018),

until the latency is at or below the target (less an optional margin for measurement noise),
both by the table and measured directly next to the seed. The
final 1x1 conv of the table (the classifier's input) is not searched: it is neither of the two
proposal kinds, and its width is the head's ``in_channels``.

Work dir (resumable: a run interrupted anywhere continues from the last finished proposal):
``netadapt_log.json`` (settings, seed, every step's proposals with latency and accuracy),
``step_<k>.pth`` (weights of the network chosen at step k), ``<seed>_netadapt.py`` (the adapted
network: the seed config with per-row widths), ``trajectory.png`` (accuracy vs latency).
"""
import copy
import json
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from ..models.backbones.row_widths import (DIVISOR, apply_row_widths, has_expansion,
                                           normalize_row_widths, residual_groups)
from .finetune import SearchData, build_search_data, evaluate, finetune, holdout_every
from .latency import (BlockLUT, atomic_write_json, measure_interleaved, measure_network,
                      write_atomically)
from .models import build_model, classifier_madds, count_params
from .transfer import transfer_weights

LOG_NAME = 'netadapt_log.json'
PARTIAL_NAME = 'netadapt_partial.json'
METRICS = ('ratio', 'accuracy')
# the command-line flag of each Settings field (tools/search/netadapt.py); others: --<field>
FLAGS = dict(config='CONFIG', iters='--iters-per-proposal', latency_hw='--latency-shape',
             extra='--cfg-options')


class SearchError(RuntimeError):
    """The search cannot go on (one line: what is wrong and what to do)."""


Widths = Dict[str, Dict[int, int]]


@dataclass
class Proposal:
    """One candidate of a step: a width change of one row or one residual group.

    Attributes:
        kind: ``'exp'`` (an expansion layer) or ``'out'`` (a residual group's bottleneck width).
        rows: the rows it changes.
        old: their width before, in channels.
        new: their width after, in channels.
        row_widths: the resulting per-row widths of the whole network (``row_widths`` argument).
        lut_ms: its latency estimated by the lookup table (ms).
        acc: held-out top-1 (%) after the fine-tune, once evaluated.
        score: its selection score, once evaluated.
    """
    kind: str
    rows: Tuple[int, ...]
    old: int
    new: int
    row_widths: Widths
    lut_ms: float
    acc: Optional[float] = None
    score: Optional[float] = None

    @property
    def name(self) -> str:
        rows = f'{self.rows[0]}' if len(self.rows) == 1 else f'{self.rows[0]}-{self.rows[-1]}'
        return f'{self.kind}[{rows}] {self.old}->{self.new}'

    def to_json(self) -> dict:
        d = asdict(self)
        d['rows'] = list(self.rows)
        d['name'] = self.name
        return d

    @classmethod
    def from_json(cls, d: dict) -> 'Proposal':
        d = dict(d)
        d.pop('name', None)
        d['rows'] = tuple(d['rows'])
        d['row_widths'] = widths_from_json(d['row_widths'])
        return cls(**d)


def widths_from_json(widths: dict) -> Widths:
    """``row_widths`` read from JSON (string row keys) -> ``{'exp': {int: int}, 'out': ...}``."""
    return {k: {int(r): int(c) for r, c in (widths or {}).get(k, {}).items()}
            for k in ('exp', 'out')}


def generate_proposals(base_specs: Sequence, widths: Widths, estimate: Callable[[Widths], float],
                       current_ms: float, delta_ms: float,
                       frozen_rows: Sequence[int] = ()) -> List[Proposal]:
    """Section 4.2's two kinds of proposals, each cutting latency by at least ``delta_ms``.

    For each expansion layer (rows with a 1x1 expansion conv) and each residual group, the width
    is lowered in steps of 8 channels until the estimated latency is ``delta_ms`` below
    ``current_ms``; the first width that gets there is the proposal. Layers that cannot reach
    delta even at 8 channels give none. Widths the backbone refuses (e.g. an expansion equal to
    its input width) are skipped over.

    Args:
        base_specs: resolved rows of the seed's table without width overrides (``LayerSpec``).
        widths: the current network's ``row_widths`` (``{'exp': {row: ch}, 'out': {...}}``).
        estimate: latency estimate in ms of a network given its ``row_widths``.
        current_ms: ``estimate(widths)``.
        delta_ms: the least latency cut, ms (0.01 x the seed latency).
        frozen_rows: rows never changed (the last row, which feeds the classifier).

    Returns:
        The proposals, expansion layers first, in row order.
    """
    current = apply_row_widths(base_specs, widths)
    candidates = []
    for i, spec in enumerate(base_specs):
        if has_expansion(spec) and i not in frozen_rows:
            candidates.append(('exp', (i,), current[i].mid_channels))
    for group in residual_groups(base_specs):
        if not set(group) & set(frozen_rows):
            candidates.append(('out', group, current[group[0]].out_channels))
    proposals = []
    for kind, rows, old in candidates:
        for new in range(old - DIVISOR, 0, -DIVISOR):
            trial = copy.deepcopy(widths)
            trial.setdefault(kind, {}).update({r: new for r in rows})
            try:
                apply_row_widths(base_specs, trial)
            except ValueError:
                continue
            ms = estimate(trial)
            if current_ms - ms >= delta_ms:
                proposals.append(Proposal(kind, tuple(rows), old, new, trial, ms))
                break
    return proposals


def target_reached(lut_ms: float, measured_ms: float, target_ms: float,
                   margin: float = 0.0, table_per_measured: float = 1.0) -> bool:
    """The stopping rule: both the table's estimate (deterministic) and the direct measurement
    (noisy on a shared machine, but what the target is about) at or below
    ``target_ms x (1 - margin)``, the table's in its own units.

    ``margin`` (default 0, the paper's rule) is a fraction kept in hand for measurement noise,
    so that a later measurement of the same network in the same protocol still finds it at or
    below the target. ``table_per_measured`` is the seed's table estimate over its measured
    latency: the target in table units is ``target_ms`` times it, so the table must show the
    same fraction of the seed's latency as the measurement (when the table was calibrated on
    another measurement of the seed than the one that set the target, the two differ by that
    measurement's noise).

    Raises:
        ValueError: a margin outside [0, 0.5).
    """
    if not 0 <= margin < 0.5:
        raise ValueError(f'stop margin must be in [0, 0.5), got {margin}')
    goal = target_ms * (1 - margin)
    return lut_ms <= goal * table_per_measured and measured_ms <= goal


def select(proposals: Sequence[Proposal], prev_acc: float, current_ms: float,
           metric: str = 'ratio') -> Proposal:
    """The proposal to take (Section 4.2, step 2(c)).

    ``'ratio'`` (the paper): the largest dAcc / |dLatency|, with dAcc = acc - ``prev_acc`` (%)
    and dLatency = lut_ms - ``current_ms`` (ms). ``'accuracy'`` (the original NetAdapt): the
    highest accuracy, i.e. the smallest accuracy drop. Ties go to the larger latency cut.

    Returns:
        The chosen proposal; every proposal's ``score`` is set.

    Raises:
        ValueError: unknown metric, no proposals, or a proposal without accuracy.
    """
    if metric not in METRICS:
        raise ValueError(f'metric must be one of {METRICS}, got {metric!r}')
    if not proposals:
        raise ValueError('no proposals to select from')
    for p in proposals:
        if p.acc is None:
            raise ValueError(f'proposal {p.name} has not been evaluated')
        cut = abs(current_ms - p.lut_ms)
        p.score = (p.acc - prev_acc) / max(cut, 1e-9) if metric == 'ratio' else p.acc
    return max(proposals, key=lambda p: (p.score, current_ms - p.lut_ms))


def write_adapted_config(path: str, seed_config: str, widths: Widths, seed_has_widths: bool,
                         header: Sequence[str]) -> None:
    """Writes the adapted network as a config inheriting the seed (atomically).

    The file sets only ``model.backbone.row_widths``; it trains with ``tools/train.py``.
    """
    exp = {r: c for r, c in sorted(widths.get('exp', {}).items())}
    out = {r: c for r, c in sorted(widths.get('out', {}).items())}
    delete = '_delete_=True, ' if seed_has_widths else ''
    lines = [f'# {h}' for h in header]
    lines += [f'_base_ = {osp.abspath(seed_config)!r}',
              '# per-row widths in channels, {table row: width} (row 0 is the stem); see',
              '# mnv3_plugin/models/backbones/row_widths.py',
              'model = dict(backbone=dict(row_widths=dict(',
              f'    {delete}exp={exp!r},',
              f'    out={out!r})))', '']

    def write(tmp):
        with open(tmp, 'w') as f:
            f.write('\n'.join(lines))
    write_atomically(path, write)


def settings_difference(ours: dict, theirs: dict) -> str:
    """The settings two searches differ in, by command-line flag: ``--iters-per-proposal 2
    there, 1 here; ...`` (``theirs``: the work dir's search, ``ours``: this one)."""
    def show(value):
        if value is None:
            return '(not given)'
        if isinstance(value, list):
            return ' '.join(map(str, value))
        if isinstance(value, dict) and set(value) <= {'cfg_options'}:  # Settings.extra
            value = value.get('cfg_options') or {}
        if isinstance(value, dict):
            return ' '.join(f'{k}={v}' for k, v in value.items()) or '(none)'
        return str(value)
    keys = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
    return '; '.join(f'{FLAGS.get(k, "--" + k.replace("_", "-"))} {show(theirs.get(k))} there, '
                     f'{show(ours.get(k))} here' for k in keys)


def _flatten(d: dict, prefix: str) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f'{prefix}.{k}'))
        else:
            out[f'{prefix}.{k}'] = json.loads(json.dumps(v, default=str))  # tuples as lists
    return out


def config_differences(saved: dict, ours: dict, prefix: str = 'model') -> List[str]:
    """``'model.head.num_classes: 8 there, 1000 here'`` for each setting two config parts
    differ in (``saved``: the config a checkpoint was saved with, ``ours``: this one)."""
    a, b = _flatten(saved, prefix), _flatten(ours, prefix)
    return [f'{k}: {a.get(k, "(unset)")!r} there, {b.get(k, "(unset)")!r} here'
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def _train_dataset(cfg) -> dict:
    ds = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while isinstance(ds, dict) and 'dataset' in ds:  # RepeatDataset and other wrappers
        ds = ds['dataset']
    return ds if isinstance(ds, dict) else {}


def _dataset_source(ds: dict) -> str:
    """Where a dataset config's list of images comes from: its ann_file, else its folder."""
    root = ds.get('data_root') or ''
    if ds.get('ann_file'):
        return osp.join(root, ds['ann_file'])
    prefix = ds.get('data_prefix') or {}
    prefix = prefix if isinstance(prefix, str) else prefix.get('img_path', '')
    return osp.join(root, prefix or ds.get('split') or '')


@dataclass
class Settings:
    """What a search is; a work dir holds one search and refuses to resume another."""
    config: str
    checkpoint: str
    target_ms: Optional[float] = None
    target_ratio: Optional[float] = None
    backend: str = 'torch'
    iters: int = 100
    metric: str = 'ratio'
    delta_ratio: float = 0.01
    latency_hw: Tuple[int, int] = (224, 224)
    holdout_fraction: float = 0.2
    runs: int = 50
    seed: int = 0
    stop_margin: float = 0.0
    lut_repeats: int = 1
    extra: dict = field(default_factory=dict)  # e.g. --cfg-options, recorded for the log


class NetAdapt:
    """One NetAdapt search (see the module docstring).

    Args:
        cfg: the seed config (loaded).
        settings: the search's settings; ``settings.config``/``checkpoint`` are the files.
        work_dir: where the log, checkpoints, config and plot go.
        lut_path: the latency table's JSON (default ``<work_dir>/latency_lut_<backend>.json``).
        max_steps: stop after this many steps (the search resumes past it if run again with a
            larger value).
        progress: show a progress bar per step.
        log: where progress lines go.

    Raises:
        SearchError: a missing checkpoint or one that is not the seed of this config (its keys
            or shapes differ; the message names the differing settings when the checkpoint
            holds the config it was saved with), a work dir holding another search, or a
            config without a table backbone.
        DataRootError: the training set of the config is not on disk (before anything runs).
        CheckpointFileError: the checkpoint is not a readable file.
        CheckpointOptionError: the backbone's options differ from those of its weights.
        ValueError: a holdout fraction outside (0, 0.5].
    """

    def __init__(self, cfg: Config, settings: Settings, work_dir: str,
                 lut_path: Optional[str] = None, max_steps: Optional[int] = None,
                 progress: bool = True, log: Callable[[str], None] = print):
        if settings.metric not in METRICS:
            raise SearchError(f'metric must be one of {METRICS}, got {settings.metric!r}')
        if (settings.target_ms is None) == (settings.target_ratio is None):
            raise SearchError('give exactly one of target_ms and target_ratio')
        if not 0 <= settings.stop_margin < 0.5:
            raise SearchError(f'stop margin must be in [0, 0.5), got {settings.stop_margin}')
        holdout_every(settings.holdout_fraction)  # ValueError
        from ..data_check import check_data
        check_data(cfg, loaders=['train_dataloader'])  # before anything is measured or written
        self.cfg = cfg
        self.s = settings
        self.work_dir = work_dir
        self.max_steps = max_steps
        self.progress = progress
        self.log = log
        self.lut = BlockLUT(lut_path or osp.join(work_dir, f'latency_lut_{settings.backend}.json'),
                            settings.backend, runs=settings.runs,
                            repeats=settings.lut_repeats)
        seed_model = build_model(cfg)
        if not hasattr(seed_model.backbone, 'specs'):
            raise SearchError('NetAdapt needs a table-driven backbone (mnv3_plugin.MobileNetV3, '
                              'MobileNetV2, MnasNet...)')
        self.base_specs = build_model(cfg, row_widths={}).backbone.specs
        self.seed_widths = normalize_row_widths(cfg.model.backbone.get('row_widths'),
                                                len(self.base_specs))
        self.frozen_rows = (len(self.base_specs) - 1,)
        self.seed_cfg: Optional[Config] = None  # the config the seed was saved with, if known
        self.seed_model = self._load_seed(seed_model)
        self.data: Optional[SearchData] = None
        os.makedirs(work_dir, exist_ok=True)  # only once the inputs are known to be good

    # -- pieces -----------------------------------------------------------------------------
    def _load_seed(self, model):
        """Loads the seed strictly (a partial load, --partial-load or MNV3_PLUGIN_PARTIAL_LOAD,
        never applies: a seed is the checkpoint trained with this config)."""
        from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model

        from ..checkpoint import PARTIAL_ENV, _names, saved_for
        path = self.s.checkpoint
        if not osp.isfile(path):
            raise SearchError(f'checkpoint {path!r} not found')
        checkpoint = _load_checkpoint(path, map_location='cpu', logger='silent')  # or raises
        if not isinstance(checkpoint, dict):
            raise SearchError(f'checkpoint {path!r} holds no state dict')
        state_dict = checkpoint.get('state_dict', checkpoint)
        meta = checkpoint.get('meta') if isinstance(checkpoint.get('meta'), dict) else {}
        if meta.get('cfg'):  # mmengine's Runner saves the config of the run (pretty_text)
            try:
                self.seed_cfg = Config.fromstring(meta['cfg'], '.py')
            except Exception:  # a config that does not load again: the checks use ours
                self.seed_cfg = None
        ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        theirs = {k[len('module.'):] if k.startswith('module.') else k:
                  tuple(getattr(v, 'shape', ())) for k, v in state_dict.items()}
        missing = [k for k in ours if k not in theirs and not k.endswith('num_batches_tracked')]
        unexpected = [k for k in theirs if k not in ours]
        shapes = [k for k in ours if k in theirs and theirs[k] != ours[k]]
        if missing or unexpected or shapes:
            parts = [f'{len(keys)} {what} ({_names(keys)})' for keys, what in (
                (missing, 'model keys missing from it'), (unexpected, 'unexpected keys'),
                (shapes, 'shapes differ')) if keys]
            # another kind of model's weights, say which
            saved = saved_for(list(state_dict), meta) if missing or unexpected else ''
            raise SearchError(
                f'checkpoint {path!r} is not a seed of {self.s.config!r}: {"; ".join(parts)}'
                + (f' (it holds {saved})' if saved else '') + '. The seed must be the '
                'checkpoint trained with this config (and these --cfg-options); '
                + self._what_differs())
        previous = os.environ.pop(PARTIAL_ENV, None)  # strict, whatever the environment says
        try:
            _load_checkpoint_to_model(model, checkpoint, strict=True, logger='silent')
        finally:
            if previous is not None:
                os.environ[PARTIAL_ENV] = previous
        return model.eval()

    def _what_differs(self) -> str:
        if self.seed_cfg is not None:
            diffs = config_differences(self.seed_cfg.get('model') or {}, self.cfg.model)
            if diffs:
                return ('the config it was saved with differs in ' + '; '.join(diffs[:3])
                        + (f' (and {len(diffs) - 3} more)' if len(diffs) > 3 else ''))
        return ('to see what differs, compare the config it was trained with (the copy in '
                "its run's work dir) with this one, as python tools/misc/print_config.py "
                'CONFIG [--cfg-options ...] prints it')

    def holdout_notes(self) -> List[str]:
        """What the held-out split is, and a warning when the seed has trained on it.

        The seed's training set is that of the config saved in its checkpoint (mmengine's
        Runner saves it), else that of this config: without an ``ann_file`` it is the whole
        training folder, which holds every held-out image; with the ann_file the held-out
        split is taken from, it holds them too.

        Returns:
            One line, or two (the second starting with ``warning:``).
        """
        k = holdout_every(self.s.holdout_fraction)
        ours = _train_dataset(self.cfg)
        source = _dataset_source(ours)
        lines = [f'held-out split: every {k}th image of {source} (indices {k - 1}, '
                 f'{2 * k - 1}, {3 * k - 1}, ...; --holdout-fraction {self.s.holdout_fraction})'
                 ' scores the proposals and is never fine-tuned on; the seed must not have '
                 'trained on these images either (benchmarks/netadapt_v3small.py trains its '
                 'seed on the others, through an ann_file)']
        seed_ds = _train_dataset(self.seed_cfg) if self.seed_cfg is not None else ours
        which = ('the config saved in the checkpoint' if self.seed_cfg is not None
                 else 'this config, as the checkpoint holds none')
        seed_source = _dataset_source(seed_ds)
        if not seed_ds.get('ann_file'):
            lines.append(f'warning: the seed trained on the whole training folder {seed_source}'
                         f' (by {which}: train_dataloader.dataset has no ann_file restricting '
                         'it), held-out images included, so the held-out scores measure what '
                         'it memorised; train the seed on an ann_file without them')
        elif seed_source == source:
            lines.append(f'warning: the seed trained on {seed_source} (by {which}), the list '
                         'the held-out images are taken from, so the held-out scores measure '
                         'what it memorised; train the seed on an ann_file without them')
        return lines

    def _model(self, widths: Widths):
        return build_model(self.cfg, row_widths=widths)

    def estimate(self, widths: Widths) -> float:
        """Lookup-table latency (ms) of the network with these per-row widths."""
        return self.lut.network_ms(self._model(widths), tuple(self.s.latency_hw),
                                   calibrated=True)

    def measure(self, model, repeats: int = 3) -> float:
        """Direct latency (ms): the smallest of ``repeats`` medians of ``runs`` runs."""
        return measure_network(model, tuple(self.s.latency_hw), self.s.backend,
                               runs=self.s.runs, repeats=repeats)

    def measure_against_seed(self, model, seed_ms: float, repeats: int = 3) -> dict:
        """Direct latency of ``model`` next to the seed's, measured alternately.

        On a shared machine the load drifts between steps; timing the seed alongside, and
        scaling its first measurement by the ratio, compares the two under the same load.

        Returns:
            ``measured_ms`` (this measurement), ``seed_now_ms`` (the seed's, now) and
            ``relative_ms`` = seed_ms x measured_ms / seed_now_ms, the latency the stopping
            rule uses.
        """
        ms = measure_interleaved(dict(model=model, seed=self.seed_model),
                                 tuple(self.s.latency_hw), self.s.backend, runs=self.s.runs,
                                 rounds=repeats)
        return dict(measured_ms=ms['model'], seed_now_ms=ms['seed'],
                    relative_ms=seed_ms * ms['model'] / ms['seed'])

    def _complexity(self, model) -> dict:
        return dict(params_m=round(count_params(model) / 1e6, 4),
                    madds_m=round(classifier_madds(model, tuple(self.s.latency_hw)) / 1e6, 2))

    def _settings_json(self) -> dict:
        d = asdict(self.s)
        d['latency_hw'] = list(d['latency_hw'])
        d['config'] = osp.abspath(d['config'])
        d['checkpoint'] = osp.abspath(d['checkpoint'])
        return json.loads(json.dumps(d))  # as it reads back from the log (tuples -> lists)

    # -- the search -------------------------------------------------------------------------
    def run(self) -> dict:
        """Runs (or resumes) the search; returns the log (also in ``netadapt_log.json``)."""
        log_path = osp.join(self.work_dir, LOG_NAME)
        for line in self.holdout_notes():
            self.log(line)
        state = self._resume_or_start(log_path)
        widths = widths_from_json(state['steps'][-1]['row_widths'] if state['steps']
                                  else state['seed']['row_widths'])
        model = self._current_model(state, widths)
        while True:
            last = state['steps'][-1] if state['steps'] else state['seed']
            if target_reached(last['lut_ms'], last['relative_ms'], state['target_ms'],
                              self.s.stop_margin, state['seed']['lut_ms'] /
                              state['seed']['measured_ms']):
                state['done'], state['reason'] = True, \
                    f'target reached after {_steps(len(state["steps"]))}'
                break
            if self.max_steps is not None and len(state['steps']) >= self.max_steps:
                state['done'], state['reason'] = False, (
                    f'stopped at --max-steps {self.max_steps} before the target '
                    f'({self._short_of_target(last, state)})')
                break
            step = len(state['steps']) + 1
            proposals = generate_proposals(self.base_specs, widths, self.estimate,
                                           last['lut_ms'], state['delta_ms'], self.frozen_rows)
            self.lut.save()
            if not proposals:
                state['done'], state['reason'] = False, (
                    f'stopped after {_steps(len(state["steps"]))} before the target '
                    f'({self._short_of_target(last, state)}): no proposal cuts latency by delta '
                    'any more, the target is out of reach of width reductions')
                break
            chosen, chosen_model = self._run_step(step, proposals, model, last)
            measured = self.measure_against_seed(chosen_model, state['seed']['measured_ms'])
            ckpt = osp.join(self.work_dir, f'step_{step}.pth')
            write_atomically(ckpt, lambda tmp: torch.save(dict(
                state_dict=chosen_model.state_dict(),
                meta=dict(row_widths=chosen.row_widths, step=step)), tmp))
            partial = osp.join(self.work_dir, PARTIAL_NAME)
            record = dict(step=step, chosen=chosen.name, row_widths=chosen.row_widths,
                          lut_ms=chosen.lut_ms, **measured, acc=chosen.acc,
                          checkpoint=osp.basename(ckpt),
                          proposals=[p.to_json() for p in proposals],
                          **self._complexity(chosen_model))
            state['steps'].append(record)
            atomic_write_json(log_path, state)
            if osp.exists(partial):
                os.remove(partial)
            self.log(f'step {step}: {chosen.name}: acc {chosen.acc:.2f}%, latency '
                     f'{chosen.lut_ms:.3f} ms (table) / {measured["relative_ms"]:.3f} ms '
                     f'(measured: {measured["measured_ms"]:.3f} ms, the seed now '
                     f'{measured["seed_now_ms"]:.3f} ms), target {state["target_ms"]:.3f} ms')
            widths, model = chosen.row_widths, chosen_model
        self.lut.save()
        self._write_outputs(state)
        atomic_write_json(log_path, state)
        return state

    def _short_of_target(self, last: dict, state: dict) -> str:
        """Why ``last`` is not at the target: ``'x.xxx ms > y.yyy ms'`` (measured, or by the
        table when only the table is above)."""
        margin = self.s.stop_margin
        goal = state['target_ms'] * (1 - margin)
        less = f': the target {state["target_ms"]:.3f} ms less --stop-margin {margin}' \
            if margin else ''
        if last['relative_ms'] > goal:
            return f'{last["relative_ms"]:.3f} ms > {goal:.3f} ms{less}'
        table_goal = goal * state['seed']['lut_ms'] / state['seed']['measured_ms']
        return (f'{last["relative_ms"]:.3f} ms measured, but by the table '
                f'{last["lut_ms"]:.3f} ms > {table_goal:.3f} ms{less}')

    def _resume_or_start(self, log_path: str) -> dict:
        settings = self._settings_json()
        if osp.isfile(log_path):
            with open(log_path) as f:
                state = json.load(f)
            if state.get('settings') != settings:
                diff = settings_difference(settings, state.get('settings') or {})
                raise SearchError(f'{self.work_dir} holds a search with other settings ({diff}):'
                                  ' use another --work-dir, or the same settings to resume it')
            self.log(f'resuming the search in {self.work_dir} after step {len(state["steps"])}')
            return state
        self.log('measuring the seed')
        hw = tuple(self.s.latency_hw)
        calibrated_now = not self.lut.calibration['networks']
        if calibrated_now:
            # the table's sums are scaled to direct measurement on the seed (latency.py says why)
            seed_ms = self.lut.calibrate([('seed', self.seed_model)], hw)['networks'][0][
                'direct_ms']
        else:
            seed_ms = self.measure(self.seed_model)
        target = (self.s.target_ms if self.s.target_ms is not None
                  else self.s.target_ratio * seed_ms)
        seed_lut = self.estimate(self.seed_widths)
        self.lut.save()
        acc = evaluate(self.seed_model, self._data())
        state = dict(settings=settings, target_ms=target,
                     # 0.01 x the seed's latency (Section 4.2), by the (calibrated) table
                     delta_ms=self.s.delta_ratio * seed_lut,
                     seed=dict(row_widths=self.seed_widths, lut_ms=seed_lut, measured_ms=seed_ms,
                               relative_ms=seed_ms, acc=acc, **self._complexity(self.seed_model)),
                     steps=[], done=False, reason='running')
        table = (f'(the latency table was calibrated on this measurement: {seed_lut:.3f} ms by '
                 'it)' if calibrated_now else f'and {seed_lut:.3f} ms by the latency table '
                 '(calibrated on an earlier measurement of it)')
        self.log(f'seed: {seed_ms:.3f} ms measured {table}; held-out acc {acc:.2f}%; target '
                 f'{target:.3f} ms, delta {state["delta_ms"]:.3f} ms')
        atomic_write_json(log_path, state)
        return state

    def _data(self) -> SearchData:
        if self.data is None:
            self.data = build_search_data(self.cfg, self.s.holdout_fraction, self.s.seed)
        return self.data

    def _current_model(self, state: dict, widths: Widths):
        if not state['steps']:
            return self.seed_model
        from mmengine.runner import load_checkpoint
        model = self._model(widths)
        load_checkpoint(model, osp.join(self.work_dir, state['steps'][-1]['checkpoint']),
                        map_location='cpu', strict=True, logger='silent')
        return model.eval()

    def _proposal_model(self, proposal: Proposal, parent, step: int):
        model = transfer_weights(parent, self._model(proposal.row_widths))
        return finetune(model, self.cfg, self._data(), self.s.iters, seed=self.s.seed + step)

    def _run_step(self, step: int, proposals: List[Proposal], parent, last: dict):
        from mmengine.utils import ProgressBar
        partial_path = osp.join(self.work_dir, PARTIAL_NAME)
        done = {}
        if osp.isfile(partial_path):
            with open(partial_path) as f:
                partial = json.load(f)
            if partial.get('step') == step:
                done = {p['name']: p['acc'] for p in partial['proposals']}
        self.log(f'step {step}: {len(proposals)} proposals, {self.s.iters} fine-tune iterations '
                 f'each' + (f' ({len(done)} done before)' if done else ''))
        for p in proposals:
            p.acc = done.get(p.name)
        todo = [p for p in proposals if p.acc is None]
        # the bar counts only the proposals fine-tuned now (its rate is theirs)
        bar = ProgressBar(len(todo)) if self.progress and todo else None
        best, best_model = None, None
        for p in todo:
            model = self._proposal_model(p, parent, step)
            p.acc = evaluate(model, self._data())
            atomic_write_json(partial_path, dict(step=step, proposals=[
                q.to_json() for q in proposals if q.acc is not None]))
            if select([q for q in proposals if q.acc is not None], last['acc'],
                      last['lut_ms'], self.s.metric) is p:
                best, best_model = p, model  # keeps the weights of the best so far only
            if bar:
                bar.update()
        if bar:
            print(flush=True)
        chosen = select(proposals, last['acc'], last['lut_ms'], self.s.metric)
        if best_model is None or chosen is not best:  # chosen before an interruption: redo it
            best_model = self._proposal_model(chosen, parent, step)
        return chosen, best_model

    # -- outputs ----------------------------------------------------------------------------
    def _write_outputs(self, state: dict) -> None:
        last = state['steps'][-1] if state['steps'] else state['seed']
        stem = osp.splitext(osp.basename(self.s.config))[0]
        path = osp.join(self.work_dir, f'{stem}_netadapt.py')
        seed = state['seed']
        header = [
            f'NetAdapt (Section 4.2) of {osp.basename(self.s.config)}: {state["reason"]}.',
            f'Latency ({self.s.backend}, 1 thread, batch 1, {self.s.latency_hw[0]}x'
            f'{self.s.latency_hw[1]}): seed {seed["measured_ms"]:.3f} ms, adapted '
            f'{last["relative_ms"]:.3f} ms, target {state["target_ms"]:.3f} ms.',
            f'Params {seed["params_m"]:.3f}M -> {last["params_m"]:.3f}M; MAdds '
            f'{seed["madds_m"]:.1f}M -> {last["madds_m"]:.1f}M at that input.',
            f'Held-out accuracy after {self.s.iters} fine-tune iterations per step: '
            f'{last["acc"]:.2f}% (seed {seed["acc"]:.2f}%).',
            'Train it from scratch with tools/train.py (Section 4.2).']
        write_adapted_config(path, self.s.config, widths_from_json(last['row_widths']),
                             bool(self.cfg.model.backbone.get('row_widths')), header)
        state['adapted_config'] = osp.basename(path)
        plot_trajectory(state, osp.join(self.work_dir, 'trajectory.png'))
        state['plot'] = 'trajectory.png'


def plot_trajectory(state: dict, path: str) -> None:
    """The search on the accuracy-latency plane: every proposal and the chosen path by the
    (calibrated) table, the chosen networks' direct measurements, the target (in table units
    too, where the table's seed differs from the measured one). Written atomically."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for s in state['steps']:
        xs = [p['lut_ms'] for p in s['proposals']]
        ys = [p['acc'] for p in s['proposals']]
        ax.scatter(xs, ys, s=10, c='0.7', label='proposals (table latency)' if s['step'] == 1
                   else None)
    path_pts = [state['seed']] + state['steps']
    accs = [p['acc'] for p in path_pts]
    ax.plot([p['lut_ms'] for p in path_pts], accs, 'o-', c='C0',
            label='chosen (table latency)')
    ax.scatter([p['relative_ms'] for p in path_pts], accs, facecolors='none', edgecolors='C1',
               label='chosen (measured latency)', zorder=3)
    for i, p in enumerate(path_pts):
        ax.annotate('seed' if i == 0 else str(i), (p['lut_ms'], p['acc']),
                    textcoords='offset points', xytext=(4, 4), fontsize=8)
    ax.axvline(state['target_ms'], c='C3', ls='--', label='target (measured)')
    seed = state['seed']
    table_target = state['target_ms'] * seed['lut_ms'] / seed['measured_ms']
    if abs(table_target - state['target_ms']) > 1e-3 * state['target_ms']:
        # the table's seed differs from the measurement that set the target: its own line
        ax.axvline(table_target, c='C0', ls=':', label='target (table units)')
    ax.set_xlabel(f'latency (ms, {state["settings"]["backend"]}, 1 thread, batch 1)')
    ax.set_ylabel('held-out top-1 (%) after fine-tune')
    ax.set_title('NetAdapt trajectory (Section 4.2)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    try:
        write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=100, format='png'))
    finally:
        plt.close(fig)


def _steps(n: int) -> str:
    return f'{n} step' + ('' if n == 1 else 's')


def uniform_row_widths(base_specs: Sequence, factor: float,
                       frozen_rows: Sequence[int] = ()) -> Widths:
    """Per-row widths of a uniformly width-scaled network (the baseline NetAdapt must beat).

    Every expansion and output width is multiplied by ``factor`` and rounded as the width
    multiplier rounds (make_divisible, 8); ``frozen_rows`` keep their width (the classifier's
    input, as in the search). An expansion that would equal its input width gets 8 more
    channels, so the network keeps its layers.

    Args:
        base_specs: resolved rows without overrides.
        factor: the multiplier, in (0, 1].
        frozen_rows: rows left as they are.

    Returns:
        ``{'exp': {row: ch}, 'out': {row: ch}}``.
    """
    from ..models.backbones.mobilenet import make_divisible
    out = {i: make_divisible(s.out_channels * factor) for i, s in enumerate(base_specs)
           if i not in frozen_rows}
    exp = {}
    for i, s in enumerate(base_specs):
        if has_expansion(s) and i not in frozen_rows:
            in_ch = out.get(i - 1, base_specs[i - 1].out_channels) if i else s.in_channels
            mid = make_divisible(s.mid_channels * factor)
            exp[i] = mid + DIVISOR if mid == in_ch else mid
    return dict(exp=exp, out=out)
