"""The plugin's own registry scope, ``mnv3_plugin`` (modelled on mmyolo's ``mmyolo/registry.py``).

The registries are children of mmengine's root registries, so a module registered here can be
built from mmpretrain, mmdet and mmseg configs as ``type='mnv3_plugin.Name'`` once the config has
``custom_imports=dict(imports=['mnv3_plugin'], allow_failed_imports=False)``. Names that are not
found here (``'BN'``, ``'ReLU'``...) fall back to the parent registries.

Modules that need a host library (mmpretrain, mmdet or mmseg) are imported the first time one of
their names is looked up (``HOST_MODULES``), so importing the plugin does not import every host.
"""
from importlib import import_module
from typing import Dict

from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import Registry

# name -> module that registers it and imports its host; tests/test_registry.py checks that
# this is exactly what those modules register.
HOST_MODULES: Dict[str, str] = {
    'ImageClassifier': 'mnv3_plugin.models.classifier',
    'StackedLinearClsHead': 'mnv3_plugin.models.classifier',
    'EncoderDecoder': 'mnv3_plugin.models.seg',
    'LRASPPHead': 'mnv3_plugin.models.seg',
    'RASPPHead': 'mnv3_plugin.models.seg',
    'SSDLite': 'mnv3_plugin.models.det',
    'SSDLiteNeck': 'mnv3_plugin.models.det',
    'SSDLiteHead': 'mnv3_plugin.models.det',
    'SSDLiteAnchorGenerator': 'mnv3_plugin.models.det',
}


class _HostAwareRegistry(Registry):
    """A registry that imports the host-specific module of a name on its first lookup."""

    def get(self, key: str):
        scope, name = self.split_scope_key(key)
        if scope in (None, self.scope) and name not in self._module_dict \
                and name in HOST_MODULES:
            import_module(HOST_MODULES[name])
        return super().get(key)


MODELS = _HostAwareRegistry('model', parent=MMENGINE_MODELS, scope='mnv3_plugin',
                            locations=['mnv3_plugin.models'])
"""Models registered in the ``mnv3_plugin`` scope."""

TASK_UTILS = _HostAwareRegistry('task util', parent=MMENGINE_TASK_UTILS, scope='mnv3_plugin',
                                locations=['mnv3_plugin.models'])
"""Task utilities (the SSDLite anchor generator) of the ``mnv3_plugin`` scope."""
