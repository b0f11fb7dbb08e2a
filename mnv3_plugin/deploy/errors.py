"""The one exception type the deployment tools turn into a one-line message."""


class DeployError(Exception):
    """A user-facing failure: what is wrong and what to do, in one line.

    The tools catch it, print ``error: <message>`` to stderr and exit non-zero without a
    traceback, after removing any partial output.
    """


def require(module: str, what: str):
    """Imports ``module`` or raises :class:`DeployError` naming the package to install.

    Args:
        module: the import name (``onnxruntime``, ``openvino``, ``nncf`` ...).
        what: what needs it, for the message (``'--format onnx'``).

    Returns:
        The imported module.

    Raises:
        DeployError: the package is not installed.
    """
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise DeployError(f'{what} needs the Python package {module!r}, which is not installed '
                          f'({e}); install the pinned deployment packages with '
                          f'`pip install -r requirements/deploy.txt`') from None
