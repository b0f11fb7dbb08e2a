"""Latency of Section 5's ablations against the V3-Large row, on this CPU.

    python benchmarks/latency_section5.py [--runs 50] [--repeats 5] [--backend torch]

For the V3-Large row and each configs/classification/v3large-*_w100_r224_imagenet.py: params,
MAdds and latency at 224x224 (one thread, batch 1, deploy mode; the smallest of --repeats
medians of the calling thread's CPU time, so other processes' load does not count), and the
difference from V3-Large beside what Section 5 states the redesign saves on a Pixel phone
(Section 5.1: the efficient last stage 7 ms = 11%, the 16-filter h-swish stem 2 ms).
"""
import argparse
import glob
import os.path as osp

import torch
import yaml
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CLS = osp.join(ROOT, 'configs', 'classification')


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--backend', default='torch')
    args = parser.parse_args()
    torch.set_num_threads(1)
    import mnv3_plugin  # noqa: F401
    from mnv3_plugin.search.latency import measure_network
    from mnv3_plugin.search.models import build_model, classifier_madds, count_params
    with open(osp.join(CLS, 'metafile-section5.yml')) as f:
        paper = {e['Name']: e['Paper'] for e in yaml.safe_load(f)['Models']}
    paths = [osp.join(CLS, 'v3large_w100_r224_imagenet.py')] + sorted(
        glob.glob(osp.join(CLS, 'v3large-*_w100_r224_imagenet.py')))
    models = {osp.splitext(osp.basename(p))[0]: build_model(Config.fromfile(p)) for p in paths}
    # interleaved, so slow phases of the machine spread over all networks
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            times[name].append(measure_network(model, (224, 224), args.backend, runs=args.runs))
    base = 'v3large_w100_r224_imagenet'
    base_ms = min(times[base])
    print(f'{"config":<40} {"params M":>8} {"MAdds M":>8} {"ms":>7} {"d ms":>7} {"d %":>6}  '
          f'paper (what V3 saves)')
    for name, model in models.items():
        ms = min(times[name])
        p, m = count_params(model), classifier_madds(model)
        res = (paper.get(name) or {}).get('Results') or {}
        said = ', '.join(f'{k.replace(" saved by V3", "")}: {v}' for k, v in res.items())
        print(f'{name:<40} {p / 1e6:>8.3f} {m / 1e6:>8.1f} {ms:>7.3f} {ms - base_ms:>+7.3f} '
              f'{100 * (ms - base_ms) / base_ms:>+5.1f}%  {said if name != base else ""}')


if __name__ == '__main__':
    main()
