"""Convert a timm MobileNetV3 checkpoint (``mobilenetv3_large_100`` ...) to the mnv3_plugin layout.

    python tools/model_converters/timm2mnv3.py mobilenetv3_large_100.pth out.pth

The weights fix the backbone's widths (the tool prints the options they need: arch,
widen_factor, width_rule='timm', ...); two numeric conventions are not in the weights and must be
set in the backbone for identical outputs:

- timm's ``tf_mobilenetv3_*`` ports of the TF checkpoints: ``padding='same'`` (TF's "SAME"
  padding, asymmetric at stride 2) and BN eps 1e-3 (the plugin's default);
- timm's own ``mobilenetv3_*`` models (except ``mobilenetv3_rw``, which keeps 1e-3): BN eps
  1e-5, ``norm_cfg=dict(type='BN', eps=1e-5, momentum=0.01)``.
"""
from mnv3_plugin.converters import convert_timm
from mnv3_plugin.runner_utils import converter_cli

if __name__ == '__main__':
    converter_cli(convert_timm, 'timm', __doc__,
                  note="timm's tf_mobilenetv3_* ports also need padding='same'; its own "
                       "mobilenetv3_* models (not mobilenetv3_rw) norm_cfg=dict(type='BN', "
                       "eps=1e-5, momentum=0.01)")
