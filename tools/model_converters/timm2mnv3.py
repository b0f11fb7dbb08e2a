"""Convert a timm MobileNetV3 checkpoint (``mobilenetv3_large_100`` ...) to the mnv3_plugin layout.

    python tools/model_converters/timm2mnv3.py mobilenetv3_large_100.pth out.pth

timm's non-``tf_`` MobileNetV3 models use BN eps 1e-5: set
``norm_cfg=dict(type='BN', eps=1e-5, momentum=0.01)`` in the backbone for identical outputs. The
``tf_`` variants use TF "SAME" padding, which this plugin does not emulate.
"""
from mnv3_plugin.converters import convert_timm
from mnv3_plugin.runner_utils import converter_cli

if __name__ == '__main__':
    converter_cli(convert_timm, 'timm', __doc__)
