# Figure 7, V3-Large at input resolution 192: only the data differs. Evaluation on the central
# 87.5% as at 224: short edge round(192 / 0.875) = 219, then a 192 x 192 centre crop.
_base_ = './v3large_w100_r224_imagenet.py'
_base_.train_dataloader.dataset.pipeline[1].scale = 192
_base_.val_dataloader.dataset.pipeline[1].scale = 219
_base_.val_dataloader.dataset.pipeline[2].crop_size = 192
test_dataloader = _base_.val_dataloader
