"""What the benchmarks share: their command-line flags (the paper's latency protocol)."""
import argparse


def latency_parser(doc: str, runs: int = 50, warmup: int = 10,
                   rounds: int = 3) -> argparse.ArgumentParser:
    """--runs, --warmup, --rounds and --threads for a benchmark built on
    :func:`mnv3_plugin.analysis.interleaved_latency`."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=runs, help='timed runs per round (median)')
    parser.add_argument('--warmup', type=int, default=warmup, help='untimed runs first')
    parser.add_argument('--rounds', type=int, default=rounds,
                        help='interleaved rounds; the best round of each model is kept')
    parser.add_argument('--threads', type=int, default=1, help='the paper uses one')
    return parser
