# Table 3, V3-Small 1.0 with torchvision's public recipe (the same command as V3-Large with
# --model mobilenet_v3_small): published 67.668 top-1 (MobileNet_V3_Small_Weights.IMAGENET1K_V1
# in torchvision/models/mobilenetv3.py). Source: pytorch/vision
# references/classification/README.md and train.py. As the V3-Small row is the V3-Large row with
# arch='small', this is the V3-Large recipe config with arch='small' (the recipe is stated once);
# tests/test_recipes.py checks that its network equals the V3-Small row's.
_base_ = './v3large-tvrecipe_w100_r224_imagenet.py'
model = dict(backbone=dict(arch='small'))
