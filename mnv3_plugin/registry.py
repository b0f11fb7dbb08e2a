"""The plugin's own registry scope, ``mnv3_plugin`` (modelled on mmyolo's ``mmyolo/registry.py``).

The registry is a child of mmengine's root ``MODELS``, so a module registered here can be built
from mmpretrain, mmdet and mmseg configs as ``type='mnv3_plugin.Name'`` once the config has
``custom_imports=dict(imports=['mnv3_plugin'], allow_failed_imports=False)``. Names that are not
found here (``'BN'``, ``'ReLU'``...) fall back to the parent registries.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='mnv3_plugin',
                  locations=['mnv3_plugin.models'])
