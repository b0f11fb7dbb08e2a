# Worked example: fine-tune MobileNetV3-Large from torchvision's ImageNet weights on your own
# image folders. Convert the weights first (docs/dropin.md):
#   python tools/model_converters/torchvision2mnv3.py mobilenet_v3_large-8738ca79.pth \
#       checkpoints/mobilenet_v3_large-torchvision.pth
# The backbone loads them with init_cfg (the new head of num_classes starts from scratch); the
# checkpoint records the backbone options its weights need, and a backbone built otherwise
# (e.g. widen_factor=0.75) fails naming the option.
_base_ = './v3small_custom-folder.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='mnv3_plugin.MobileNetV3',
        arch='large',
        width_rule='torchvision',  # torchvision's checkpoints (the same as 'tf' at 1.0)
        init_cfg=dict(type='Pretrained', prefix='backbone.',
                      checkpoint='checkpoints/mobilenet_v3_large-torchvision.pth')),
    head=dict(in_channels=960, mid_channels=[1280]))  # C5 and the classifier width of Large
