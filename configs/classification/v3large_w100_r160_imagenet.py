# Figure 7, V3-Large at input resolution 160: only the data differs. Evaluation on the central
# 87.5% as at 224: short edge round(160 / 0.875) = 183, then a 160 x 160 centre crop.
_base_ = './v3large_w100_r224_imagenet.py'
_base_.train_dataloader.dataset.pipeline[1].scale = 160
_base_.val_dataloader.dataset.pipeline[1].scale = 183
_base_.val_dataloader.dataset.pipeline[2].crop_size = 160
test_dataloader = _base_.val_dataloader
