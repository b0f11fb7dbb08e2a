"""MobileNetV3 ("Searching for MobileNetV3", Howard et al.) for the OpenMMLab stack.

Importing the package applies the upstream compatibility fixes (:mod:`mnv3_plugin.compat`) and
registers its modules in the ``mnv3_plugin`` registry scope.
"""
from . import compat

compat.apply_all()

from . import models  # noqa: E402,F401  (registers the modules)
from .registry import MODELS  # noqa: E402

__version__ = '0.1.0'
__all__ = ['MODELS', 'compat', 'models', '__version__']
