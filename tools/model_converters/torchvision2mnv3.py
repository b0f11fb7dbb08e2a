"""Convert a torchvision MobileNetV3 checkpoint to the mnv3_plugin layout.

    python tools/model_converters/torchvision2mnv3.py mobilenet_v3_large-8738ca79.pth out.pth

The output holds ``state_dict`` (keys ``backbone.*`` and ``head.*`` of an mmpretrain
ImageClassifier with ``mnv3_plugin.MobileNetV3`` and ``StackedLinearClsHead``). Use it with
``load_from=out.pth``, or for a backbone alone with
``init_cfg=dict(type='Pretrained', checkpoint='out.pth', prefix='backbone.')``. torchvision's
0.75 and other non-1.0 widths need ``width_rule='torchvision'`` in the backbone config.
"""
from mnv3_plugin.converters import convert_torchvision
from mnv3_plugin.runner_utils import converter_cli

if __name__ == '__main__':
    converter_cli(convert_torchvision, 'torchvision', __doc__)
