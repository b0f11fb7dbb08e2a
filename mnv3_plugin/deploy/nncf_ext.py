"""NNCF's C++ quantization extension: whether it is built, and building it once, visibly.

NNCF 3.4 JIT-compiles its CPU fake-quantization kernels (``quantized_functions_cpu``, loaded by
``nncf.torch.quantization.extensions.QuantizedFunctionsCPULoader`` through
``torch.utils.cpp_extension.load``) the first time a quantized model runs: about a minute with
g++ and ninja, silently, in the middle of whatever runs first. torch keeps the build in its
extensions folder (``$TORCH_EXTENSIONS_DIR`` or ``~/.cache/torch_extensions``), one per NNCF
extension and torch version, so later processes load it in a second.

The README's set-up (``tools/setup_env.sh``) runs this module to build it once::

    python -m mnv3_plugin.deploy.nncf_ext --check   # exit 0: built, 1: not built, 2: no nncf
    python -m mnv3_plugin.deploy.nncf_ext --build   # compile if needed (a no-op when built)

and :func:`mnv3_plugin.deploy.quantize.build_nncf_extension` does the same before the first
quantization, for environments made another way.
"""
import argparse
import os
import sys
from typing import Callable, List, Optional

# exit codes of ``--check``
BUILT, NOT_BUILT, NO_NNCF = 0, 1, 2


def cpu_loaders() -> Optional[List[type]]:
    """NNCF's registered CPU extension loaders, or None when nncf is not installed.

    ``nncf.torch.quantization.extensions`` registers them when imported (a bare ``import nncf``
    leaves the registry empty).
    """
    try:
        import nncf.torch.quantization.extensions  # noqa: F401  (registers the loaders)
        from nncf.torch.extensions import EXTENSIONS, ExtensionsType
    except ImportError:
        return None
    return [loader for loader in EXTENSIONS.registry_dict.values()
            if loader.extension_type() == ExtensionsType.CPU]


def is_built(loader) -> bool:
    """Whether ``loader``'s build folder holds the compiled library (``<name>.so``)."""
    return os.path.isfile(os.path.join(loader.get_build_dir(), f'{loader.name()}.so'))


def missing_extensions() -> Optional[List[type]]:
    """The CPU extension loaders whose library is not built yet; None without nncf."""
    loaders = cpu_loaders()
    return None if loaders is None else [loader for loader in loaders if not is_built(loader)]


def build(log: Callable[[str], None] = print, prefix: str = '[nncf]') -> int:
    """Compiles every CPU extension not built yet, with a line before and after each.

    Args:
        log: where the lines go.
        prefix: the lines' prefix (``[setup]`` from tools/setup_env.sh).

    Returns:
        How many extensions were compiled (0: all were built already, or nncf is missing).

    Raises:
        RuntimeError: the compiled library is still missing afterwards (NNCF then falls back on
            slower torch operations; the message says what the compiler needs).
    """
    missing = missing_extensions() or []
    for loader in missing:
        log(f'{prefix} compiling NNCF\'s C++ extension {loader.name()!r} once (about a minute '
            f'with g++ and ninja) into {loader.get_build_dir()} ...')
        loader.load()  # NNCF's loader warns and falls back when the compiler fails
        if not is_built(loader):
            raise RuntimeError(f'NNCF\'s extension {loader.name()!r} did not build: it needs '
                               f'g++ and ninja (pip install ninja); see the warning above')
        log(f'{prefix} NNCF\'s extension {loader.name()!r} built')
    return len(missing)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--check', action='store_true',
                       help=f'exit {BUILT} when built, {NOT_BUILT} when not, {NO_NNCF} without '
                       'nncf; prints nothing')
    group.add_argument('--build', action='store_true', help='compile what is not built yet')
    parser.add_argument('--prefix', default='[nncf]', help='prefix of the printed lines')
    args = parser.parse_args(argv)
    missing = missing_extensions()
    if missing is None:
        if args.build:
            print(f'{args.prefix} nncf is not installed: nothing to compile', file=sys.stderr)
        return NO_NNCF
    if args.check:
        return NOT_BUILT if missing else BUILT
    try:
        build(prefix=args.prefix)
    except RuntimeError as e:
        print(f'{args.prefix} ERROR: {e}', file=sys.stderr)
        return NOT_BUILT
    return BUILT


if __name__ == '__main__':
    sys.exit(main())
