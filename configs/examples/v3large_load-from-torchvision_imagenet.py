# Worked example: start from torchvision's ImageNet weights with load_from (the whole classifier,
# backbone and head, as converted by tools/model_converters/torchvision2mnv3.py), here to go on
# training or to evaluate on ImageNet with the Table 3 row's recipe.
_base_ = '../classification/v3large_w100_r224_imagenet.py'

model = dict(backbone=dict(width_rule='torchvision'))  # torchvision's width rule (1.0: the same)
load_from = 'checkpoints/mobilenet_v3_large-torchvision.pth'
