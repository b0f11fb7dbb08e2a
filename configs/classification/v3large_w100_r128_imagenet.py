# Figure 7, V3-Large at input resolution 128: only the data differs. Evaluation on the central
# 87.5% as at 224: short edge round(128 / 0.875) = 146, then a 128 x 128 centre crop.
_base_ = './v3large_w100_r224_imagenet.py'
_base_.train_dataloader.dataset.pipeline[1].scale = 128
_base_.val_dataloader.dataset.pipeline[1].scale = 146
_base_.val_dataloader.dataset.pipeline[2].crop_size = 128
test_dataloader = _base_.val_dataloader
